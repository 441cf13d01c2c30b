import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const DIST = join(ROOT, 'dist', 'libs');
const workspace = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
const manifestOf = (lib: string) => JSON.parse(readFileSync(join(DIST, lib, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; peerDependencies?: Record<string, string> };
const npm = (args: string[], cwd: string) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** Every JS file of a built package, recursively. */
function jsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? jsFiles(join(dir, f)) : f.endsWith('.js') ? [join(dir, f)] : []));
}

// @personai/monitoring as a user gets it: built (monitoring:build), packed with npm pack, installed from
// the tarball into an app outside the workspace (no path aliases, no workspace node_modules), booted.
describe('@personai/monitoring, packed and installed like a published package', () => {
  let scratch: string;

  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'personai-pack-'));
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it.each(['contracts', 'monitoring'])('@personai/%s declares every package its code requires (dependencies or peers)', (lib) => {
    const pkg = manifestOf(lib);
    const declared = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})]);
    const required = new Set<string>();
    for (const file of jsFiles(join(DIST, lib))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/require\("([^".][^"]*)"\)/g)) {
        const name = m[1].startsWith('@') ? m[1].split('/').slice(0, 2).join('/') : m[1].split('/')[0];
        if (!name.startsWith('node:') && !builtinModules.includes(name)) required.add(name);
      }
    }
    expect(required.size).toBeGreaterThan(0);
    expect([...required].filter((r) => !declared.has(r))).toEqual([]);
  });

  it('boots in a scratch NestJS app from the tarball and serves /health, /metrics and /audit, and its bin verifies the audit store offline (npx personai-audit verify)', async () => {
    const packs = join(scratch, 'packs');
    const app = join(scratch, 'app');
    for (const dir of [packs, app]) execFileSync('mkdir', ['-p', dir]);
    const tarballs = ['contracts', 'monitoring'].map((lib) => join(packs, npm(['pack', '--silent', '--pack-destination', packs], join(DIST, lib)).trim().split('\n').pop() as string));
    const peers = Object.keys(manifestOf('monitoring').peerDependencies ?? {}).filter((p) => p !== '@nestjs/testing');
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'scratch-app', private: true, dependencies: { ...Object.fromEntries(peers.map((p) => [p, workspace.dependencies[p]])), '@personai/contracts': `file:${tarballs[0]}`, '@personai/monitoring': `file:${tarballs[1]}` } }),
    );
    // Registry packages come from npm's cache when it has them. No install script is needed: better-sqlite3 13
    // ships its N-API binaries in the package.
    npm(['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], app);
    const sqlite = (dir: string) => JSON.parse(readFileSync(join(dir, 'node_modules', 'better-sqlite3', 'package.json'), 'utf8')).version as string;
    expect(sqlite(app)).toBe(sqlite(ROOT));

    writeFileSync(
      join(app, 'main.js'),
      `require('reflect-metadata');
const { Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { FastifyAdapter } = require('@nestjs/platform-fastify');
const { MonitoringModule, useMonitoring } = require('@personai/monitoring');
class AppModule {}
const auditCheckpoints = { signingKeyFile: __dirname + '/data/key.pem', generateKey: true, anchorDir: __dirname + '/data/checkpoints', everyEvents: 1, intervalMs: 60000 };
Module({ imports: [MonitoringModule.forRoot({ serviceName: 'scratch-app', version: '1.2.3', auditDatabase: __dirname + '/data/audit.db', auditCheckpoints })] })(AppModule);
(async () => {
  const app = await NestFactory.create(AppModule, new FastifyAdapter(), { logger: false });
  useMonitoring(app);
  await app.listen(0, '127.0.0.1');
  console.log(JSON.stringify({ url: await app.getUrl(), resolved: require.resolve('@personai/monitoring') }));
})();
`,
    );
    const child = spawn(process.execPath, ['main.js'], { cwd: app, env: { PATH: process.env['PATH'] ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const started = await new Promise<{ url: string; resolved: string }>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]));
        });
        child.stderr.on('data', (c: Buffer) => (out += c.toString()));
        child.on('exit', (code) => reject(new Error(`the scratch app exited with ${code}: ${out}`)));
      });
      expect(relative(app, started.resolved)).toBe(join('node_modules', '@personai', 'monitoring', 'index.js'));
      const base = started.url.replace('[::1]', '127.0.0.1');
      const health = await fetch(`${base}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'healthy', service: 'scratch-app', version: '1.2.3', dependencies: { database: true } });
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toContain('http_requests_total{method="GET",endpoint="/health",status="200",service="scratch-app"} 1');
      expect(metrics).toContain('dependency_up{dependency="database",service="scratch-app"} 1');
      const audit = await fetch(`${base}/audit`);
      expect(audit.status).toBe(200);
      expect(await audit.json()).toMatchObject({ service: 'scratch-app', events: expect.any(Array) });

      // Three refused POSTs are three audit events, each covered by a signed checkpoint (one per event here).
      for (let i = 0; i < 3; i += 1) expect((await fetch(`${base}/nowhere`, { method: 'POST' })).status).toBe(404);
      for (let tries = 0; tries < 50 && ((await (await fetch(`${base}/audit/checkpoints`)).json()) as { checkpoints: unknown[] }).checkpoints.length < 3; tries += 1) await new Promise((r) => setTimeout(r, 100));
      writeFileSync(join(app, 'public.pem'), await (await fetch(`${base}/audit/checkpoints/public-key`)).text());
      child.kill('SIGKILL');

      // The package's own bin checks the store offline, as an auditor would run it: `npx personai-audit verify`.
      const verify = () => spawnSync('npx', ['--no-install', 'personai-audit', 'verify', '--store', 'data/audit.db', '--checkpoints', 'data/checkpoints', '--public-key', 'public.pem'], { cwd: app, encoding: 'utf8' });
      const intact = verify();
      // (Reads of the audit log are audited too: the last of them may be after the last checkpoint, unanchored, not tampering.)
      expect([intact.status, intact.stdout]).toEqual([0, expect.stringMatching(/^scratch-app: INTACT; \d+ events checked against [3-9] checkpoint\(s\)/)]);
      execFileSync(process.execPath, ['-e', `new (require('better-sqlite3'))('data/audit.db').prepare("UPDATE audit_events SET user_id = 'mallory' WHERE seq = 2").run()`], { cwd: app });
      const edited = verify();
      expect([edited.status, edited.stdout]).toEqual([1, expect.stringMatching(/scratch-app: TAMPERED[\s\S]*EDITED/)]);
      // The CLI conventions from outside: --help exits 0 listing every flag, a usage error or an unreadable input exits 2.
      const help = spawnSync('npx', ['--no-install', 'personai-audit', 'verify', '--help'], { cwd: app, encoding: 'utf8' });
      expect(help.status).toBe(0);
      for (const flag of ['--store', '--checkpoints', '--public-key', '--archive', '--retention', '--service', '--json', '--help', '--version']) expect(help.stdout).toContain(flag);
      const usage = spawnSync('npx', ['--no-install', 'personai-audit', 'verify', '--store', 'data/audit.db'], { cwd: app, encoding: 'utf8' });
      expect([usage.status, usage.stdout, usage.stderr]).toEqual([2, '', expect.stringContaining('missing --checkpoints, --public-key')]);
      const unreadable = spawnSync('npx', ['--no-install', 'personai-audit', 'verify', '--store', 'data/audit.db', '--checkpoints', 'data/checkpoints', '--public-key', 'absent.pem'], { cwd: app, encoding: 'utf8' });
      expect([unreadable.status, unreadable.stderr]).toEqual([2, expect.stringMatching(/^personai-audit: .*absent\.pem/)]);
    } finally {
      child.kill('SIGKILL');
    }
  }, 240_000);
});

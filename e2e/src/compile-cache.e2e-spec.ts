import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServiceProcess } from './support/service-process';
import { freePort } from './support/stack';
import { targets } from './support/targets';

const { local, fakeUpstreams } = targets();
// Needs to start and kill a service process of its own, so only against a local stack.
const describeLocal = local ? describe : describe.skip;

/** The files of a compile cache directory (Node keeps them in one subdirectory per Node version and flags). */
function cacheFiles(dir: string): { name: string; bytes: number }[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => ({ name, stat: statSync(join(dir, name)) }))
    .filter((f) => f.stat.isFile())
    .map((f) => ({ name: f.name, bytes: f.stat.size }));
}

/**
 * The images set NODE_COMPILE_CACHE so that a restarted container skips compiling its bundle. Node writes that
 * cache only when a process exits normally, so the restarts where a fast start matters most (after an OOM kill,
 * a kill -9, a crash) used to compile everything again. The service writes it once it listens.
 */
describeLocal('content-engine: Node compile cache across a kill -9', () => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'personai-compile-cache-'));
  const dataDir = mkdtempSync(join(tmpdir(), 'personai-compile-cache-data-'));
  let service: ServiceProcess;

  beforeAll(async () => {
    // NODE_DEBUG_NATIVE=COMPILE_CACHE: Node says on stderr whether it accepted a cache entry.
    service = new ServiceProcess('content-engine', await freePort(), { DATA_DIR: dataDir, OPENAI_API_URL: `${fakeUpstreams}/openai`, NODE_COMPILE_CACHE: cacheDir, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' }, { captureOutput: true });
  });
  afterAll(async () => {
    await service.kill();
    rmSync(cacheDir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('leaves the bundle compiled in the cache when killed -9 once ready, and the restart uses it', async () => {
    expect(cacheFiles(cacheDir)).toEqual([]);
    await service.start();
    expect(await service.kill('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    const files = cacheFiles(cacheDir);
    // The bundle's entry is the largest by far (a few hundred KB); no temporary file is left half-written.
    expect(files.filter((f) => f.bytes > 100_000)).toHaveLength(1);
    expect(files.filter((f) => /\.[A-Za-z0-9]{6}$/.test(f.name))).toEqual([]);

    const before = service.output.length;
    await service.start();
    const restart = service.output.slice(before);
    expect(restart).toMatch(/V8 code cache for CommonJS \S*dist\/apps\/content-engine\/main\.js was accepted/);
  });
});

import { SERVICE_MANIFEST, SERVICE_NAMES, SERVICE_PORTS, MONITORING_ROUTES } from '@personai/contracts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const ROOT = join(__dirname, '..', '..');
const APPS = [...SERVICE_NAMES, 'fake-upstreams'];

interface ComposeService {
  build?: { context: string; dockerfile: string; args?: Record<string, string> };
  image?: string;
  environment?: Record<string, string>;
  ports?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  read_only?: boolean;
  volumes?: string[];
}

describe('docker/Dockerfile', () => {
  const lines = readFileSync(join(ROOT, 'docker', 'Dockerfile'), 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#'));
  const stages = lines.reduce<string[][]>((acc, l) => (l.startsWith('FROM ') ? [...acc, [l]] : (acc[acc.length - 1]?.push(l), acc)), []);
  const runtime = stages[stages.length - 1];

  it('is multi-stage, with a runtime stage free of compilers and sources', () => {
    expect(stages.length).toBeGreaterThanOrEqual(3);
    expect(runtime.some((l) => /g\+\+|make|python3/.test(l) && l.startsWith('RUN apt-get'))).toBe(false);
    expect(runtime.filter((l) => l.startsWith('COPY')).every((l) => l.includes('--from='))).toBe(true);
    expect(lines.some((l) => /npm prune --omit=dev/.test(l))).toBe(true);
  });

  it('runs as the non-root node user, with node as PID 1 (exec form) and a liveness HEALTHCHECK', () => {
    expect(runtime).toContain('USER node');
    const entrypoint = runtime.find((l) => l.startsWith('ENTRYPOINT'));
    expect(JSON.parse((entrypoint as string).replace(/^ENTRYPOINT /, ''))).toEqual(['node', 'main.js']);
    const healthcheck = runtime.findIndex((l) => l.startsWith('HEALTHCHECK'));
    expect(`${runtime[healthcheck]} ${runtime[healthcheck + 1]}`).toContain(MONITORING_ROUTES.live);
  });

  it("runs the workspace's pinned Node.js (.node-version), the one CI tests on, with its compile cache in /tmp", () => {
    const pinned = readFileSync(join(ROOT, '.node-version'), 'utf8').trim();
    const image = /^ARG NODE_IMAGE=node:(\d+)\.(\d+)-/.exec(lines.find((l) => l.startsWith('ARG NODE_IMAGE=')) ?? '');
    expect(image?.slice(1, 3).join('.')).toBe(pinned.split('.').slice(0, 2).join('.'));
    expect(runtime.find((l) => l.startsWith('ENV '))).toMatch(/NODE_COMPILE_CACHE=\/tmp\//);
  });

  it('builds every app once and copies the one the APP build argument names, last: every layer before it is shared by all the images', () => {
    expect(lines.some((l) => /nx run-many -t build --projects=tag:type:app\b/.test(l))).toBe(true);
    expect(runtime.some((l) => l.includes('dist/apps/${APP}/'))).toBe(true);
    const firstAppLine = lines.findIndex((l) => /\bAPP\b/.test(l));
    expect(lines.slice(firstAppLine)[0]).toBe('ARG APP');
    expect(lines.findIndex((l) => l.includes('dist/apps/${APP}/'))).toBeGreaterThan(lines.findIndex((l) => l.includes('--from=prod-deps')));
    expect(stages.slice(0, -1).flat().some((l) => /\bAPP\b/.test(l))).toBe(false);
  });

  it('installs with no install script run and fails the build if a native dependency would need compiling (the slim base has no Python, no compiler)', () => {
    const installs = lines.filter((l) => /\bnpm (ci|install|prune)\b/.test(l));
    expect(installs.length).toBeGreaterThan(0);
    for (const l of installs) expect(l).toMatch(/--ignore-scripts/);
    expect(lines.filter((l) => /node scripts\/check-native-deps\.mjs/.test(l))).toHaveLength(2);
    expect(readFileSync(join(ROOT, '.npmrc'), 'utf8')).toMatch(/^ignore-scripts=true$/m);
  });
});

describe('docker/docker-compose.yml', () => {
  // The file shares settings through YAML merge keys (<<:), as Compose does.
  const compose = parse(readFileSync(join(ROOT, 'docker', 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, ComposeService> };
  const services = compose.services;

  it('runs the fakes, the four services, the monitors, PostgreSQL, NATS, Prometheus, Grafana, a trace collector and Jaeger, each with a healthcheck but the three nothing waits on', () => {
    expect(Object.keys(services).sort()).toEqual([...APPS, ...(SERVICE_MANIFEST.monitors ?? []).map((m) => m.name), 'postgres', 'nats', 'nats-exporter', 'prometheus', 'grafana', 'otel-collector', 'jaeger'].sort());
    // The trace collector's, Jaeger's and the NATS exporter's images have no shell to probe with; nothing depends on them.
    const unprobed = ['otel-collector', 'jaeger', 'nats-exporter'];
    for (const [name, s] of Object.entries(services)) expect([name, Array.isArray(s.healthcheck?.test)]).toEqual([name, !unprobed.includes(name)]);
    for (const s of Object.values(services)) expect(Object.keys(s.depends_on ?? {}).filter((d) => unprobed.includes(d))).toEqual([]);
  });

  it('sends every service\'s traces to the collector, which forwards them to Jaeger; Prometheus keeps exemplars', () => {
    for (const name of SERVICE_NAMES) expect([name, services[name].environment?.['OTEL_EXPORTER_OTLP_ENDPOINT']]).toEqual([name, 'http://otel-collector:4318']);
    expect(services['otel-collector'].volumes).toEqual(['../deploy/otel/collector.yaml:/etc/otelcol/collector.yaml:ro']);
    expect(services['jaeger'].environment).toEqual({ COLLECTOR_OTLP_ENABLED: 'true' });
    expect((services['prometheus'] as { command?: string[] }).command).toContain('--enable-feature=exemplar-storage');
  });

  it.each(SERVICE_NAMES)('builds %s from the Dockerfile, on its port, with the shared PostgreSQL audit store', (name) => {
    const s = services[name];
    expect(s.build).toMatchObject({ dockerfile: 'docker/Dockerfile', args: { APP: name } });
    expect(s.ports).toEqual([`${SERVICE_PORTS[name]}:${SERVICE_PORTS[name]}`]);
    expect(s.environment).toMatchObject({ SERVICE_NAME: name, PORT: String(SERVICE_PORTS[name]) });
    expect(s.environment?.['AUDIT_DATABASE_URL']).toMatch(/^postgres:\/\/.*@postgres:5432\//);
    expect(s.healthcheck?.test.join(' ')).toContain(MONITORING_ROUTES.live);
    expect(s.read_only).toBe(true);
    // Signed audit checkpoints on a named volume of their own, apart from the database's.
    expect(s.environment?.['AUDIT_CHECKPOINT_DIR']).toBe('/audit-checkpoints');
    expect(s.volumes).toContain('audit-checkpoints:/audit-checkpoints');
  });

  it('publishes every service\'s audit events to NATS, which the audit collector reads into its own volume', () => {
    for (const name of SERVICE_NAMES) expect([name, services[name].environment?.['AUDIT_STREAM_URL']]).toEqual([name, 'nats://nats:4222']);
    const collector = services['audit-collector'];
    expect(collector.environment).toMatchObject({ COLLECTOR_STREAM_URL: 'nats://nats:4222', AUDIT_STREAM_URL: '', AUDIT_DATABASE_URL: '' });
    expect(collector.volumes).toEqual(['audit-collector-data:/data']);
    expect(Object.keys(collector.depends_on ?? {})).toContain('nats');
    expect((services['nats'] as { command?: string[] }).command).toEqual(expect.arrayContaining(['--jetstream', '--store_dir=/data']));
  });

  it('starts each container only once what it needs is healthy', () => {
    const edges = Object.entries(services).flatMap(([name, s]) => Object.entries(s.depends_on ?? {}).map(([dep, c]) => ({ name, dep, condition: c.condition })));
    expect(edges.length).toBeGreaterThan(0);
    expect(edges.filter((e) => e.condition !== 'service_healthy')).toEqual([]);
    for (const name of SERVICE_NAMES) expect(Object.keys(services[name].depends_on ?? {})).toEqual(expect.arrayContaining(['postgres', 'fake-upstreams']));
  });

  it('gives every app an image, and an Nx docker-build target that builds it', () => {
    for (const app of APPS) {
      expect(services[app].build?.args?.['APP']).toBe(app);
      const project = JSON.parse(readFileSync(join(ROOT, 'apps', app, 'project.json'), 'utf8')) as { targets: Record<string, { options: { command: string } }> };
      expect(project.targets['docker-build'].options.command).toContain(`--build-arg APP=${app}`);
    }
  });
});

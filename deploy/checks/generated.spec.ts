import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVICE_MANIFEST } from '@personai/contracts';
import { dashboards } from '@personai/tools/observability';
import { render, stale } from '@personai/tools/manifest';

const ROOT = join(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

describe('files generated from the services manifest (libs/contracts/src/services.json)', () => {
  const files = render(read) as Record<string, string>;

  it('covers the scrape config, compose, the Kubernetes base and both overlays, and the e2e and deploy projects', () => {
    expect(Object.keys(files)).toEqual(
      expect.arrayContaining([
        'deploy/prometheus/prometheus.yml',
        'docker/docker-compose.yml',
        'deploy/kubernetes/base/kustomization.yaml',
        ...SERVICE_MANIFEST.services.map((s) => `deploy/kubernetes/base/${s.name}.yaml`),
        'deploy/kubernetes/overlays/dev/kustomization.yaml',
        'deploy/kubernetes/overlays/prod/kustomization.yaml',
        'e2e/project.json',
        'deploy/project.json',
      ]),
    );
  });

  it.each(Object.keys(render(read) as Record<string, string>))('%s is what `npm run generate` writes (no hand edit, not stale)', (path) => {
    expect(read(path)).toBe(files[path]);
  });

  it('leaves no generated file of a service the manifest no longer has', () => {
    expect(stale((dir: string) => readdirSync(join(ROOT, dir)))).toEqual([]);
  });
});

describe('the service dashboard', () => {
  const dashboard = dashboards().find((d) => d.uid === 'personai-service') as ReturnType<typeof dashboards>[number] & { templating: { list: { name: string; query: { query: string } }[] } };

  it('selects the service by a variable listing every service that reports health, so a new service needs no copy', () => {
    expect(dashboard.templating.list).toEqual([expect.objectContaining({ name: 'service', query: expect.objectContaining({ query: 'label_values(health_status, service)' }) })]);
  });

  it('filters every panel query by that variable', () => {
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
    expect(exprs.length).toBeGreaterThan(10);
    expect(exprs.filter((e) => !e.includes('service="$service"'))).toEqual([]);
  });
});

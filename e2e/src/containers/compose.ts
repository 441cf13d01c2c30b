import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT } from './runtime';

/** One service of docker/docker-compose.yml that the repo builds (its `build.args.APP`), as compose wires it. */
export interface ComposeApp {
  name: string;
  app: string;
  environment: Record<string, string>;
  /** Container ports compose publishes. */
  ports: number[];
  readOnly: boolean;
  tmpfs: string[];
  /** Named volumes: [volume, path in the container]. */
  volumes: [string, string][];
  /** The services it waits for (`condition: service_healthy`). */
  dependsOn: string[];
}

interface RawService {
  build?: { args?: { APP?: string } };
  environment?: Record<string, string | number | boolean>;
  ports?: string[];
  read_only?: boolean;
  tmpfs?: string[];
  volumes?: string[];
  depends_on?: Record<string, unknown>;
}

/** The repo-built services of docker/docker-compose.yml (YAML anchors and merge keys resolved), in start order. */
export function composeApps(file = join(ROOT, 'docker', 'docker-compose.yml')): ComposeApp[] {
  const doc = parse(readFileSync(file, 'utf8'), { merge: true }) as { services: Record<string, RawService> };
  const apps = Object.entries(doc.services)
    .filter(([, s]) => s.build?.args?.APP)
    .map(([name, s]): ComposeApp => ({
      name,
      app: s.build?.args?.APP as string,
      environment: Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, String(v)])),
      ports: (s.ports ?? []).map((p) => Number(p.split(':').pop())),
      readOnly: s.read_only === true,
      tmpfs: s.tmpfs ?? [],
      volumes: (s.volumes ?? []).map((v) => v.split(':').slice(0, 2) as [string, string]),
      dependsOn: Object.keys(s.depends_on ?? {}),
    }));
  // Start order: a service after every repo-built service it depends on (what `depends_on: service_healthy` does).
  const ordered: ComposeApp[] = [];
  const names = new Set(apps.map((a) => a.name));
  while (ordered.length < apps.length) {
    const ready = apps.filter((a) => !ordered.includes(a) && a.dependsOn.filter((d) => names.has(d)).every((d) => ordered.some((o) => o.name === d)));
    if (ready.length === 0) throw new Error('docker-compose.yml: depends_on has a cycle');
    ordered.push(...ready);
  }
  return ordered;
}

import { MONITORING_ROUTES, SERVICE_MANIFEST, SERVICE_NAMES, SERVICE_PORTS } from '@personai/contracts';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Service } from 'kubernetes-models/v1/Service';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } } & Record<string, unknown>;
type Container = { name: string; ports: { name: string; containerPort: number }[]; env?: { name: string; valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } } }[]; securityContext: Record<string, unknown>; resources: { requests: object; limits: object }; livenessProbe: Probe; readinessProbe: Probe; startupProbe: Probe; lifecycle?: { preStop?: { exec: { command: string[] } } }; volumeMounts?: { name: string; mountPath: string }[] };
type Probe = { httpGet: { path: string; port: string } };
const seconds = (duration: string | undefined): number => Number(/^(\d+)s$/.exec(duration ?? '')?.[1] ?? NaN);

/**
 * Every kind the manifests may contain, with the model whose validate() checks its schema (the models'
 * base class types do not resolve under this workspace's moduleResolution, hence the plain constructor type).
 */
const MODELS: Record<string, new (o: never) => unknown> = {
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'v1/Service': Service,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
};

/**
 * kustomize wraps long base64 Secret values at 70 characters; the API server's decoder (Go's
 * base64.StdEncoding) skips the newlines, the schema's `byte` pattern does not. Validate what the
 * server decodes.
 */
function asApiServerReadsIt(o: Obj): Obj {
  if (o.kind !== 'Secret' || !o['data']) return o;
  const data = Object.fromEntries(Object.entries(o['data'] as Record<string, string>).map(([k, v]) => [k, v.replace(/\n/g, '')]));
  return { ...o, data };
}

function render(overlay: string): Obj[] {
  const out = spawnSync('kubectl', ['kustomize', join(__dirname, '..', 'kubernetes', 'overlays', overlay)], { encoding: 'utf8' });
  expect(out.error).toBeUndefined(); // kubectl (with kustomize) is on the machine; .ci/run installs it when missing
  expect(out.stderr).toBe('');
  return parseAllDocuments(out.stdout).map((d) => d.toJSON() as Obj);
}

it('rejects an invalid object (the schema check can fail)', () => {
  const broken = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { replicas: 'two', selector: {}, template: {} } };
  expect(() => (new Deployment(broken as never) as unknown as { validate(): void }).validate()).toThrow(/replicas/);
});

describe.each(['dev', 'prod'])('the %s overlay', (overlay) => {
  const objects = render(overlay);
  const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name) as Obj;

  it('renders only objects that validate against their Kubernetes (and prometheus-operator) schemas', () => {
    const invalid: string[] = [];
    for (const o of objects) {
      const Model = MODELS[`${o.apiVersion}/${o.kind}`];
      if (!Model) invalid.push(`${o.kind} ${o.metadata.name}: no schema for ${o.apiVersion}`);
      else {
        try {
          (new Model(asApiServerReadsIt(o) as never) as { validate(): void }).validate();
        } catch (err) {
          invalid.push(`${o.kind} ${o.metadata.name}: ${(err as Error).message}`);
        }
      }
    }
    expect(invalid).toEqual([]);
    expect(new Set(objects.map((o) => o.metadata.namespace))).toEqual(new Set([overlay === 'dev' ? 'personai-dev' : 'personai']));
  });

  it.each(SERVICE_NAMES)('gives %s its Deployment, Service, ConfigMap, PDB, HPA, NetworkPolicy and ServiceMonitor', (service) => {
    for (const kind of ['Deployment', 'Service', 'PodDisruptionBudget', 'HorizontalPodAutoscaler', 'NetworkPolicy', 'ServiceMonitor']) expect([kind, Boolean(find(kind, service))]).toEqual([kind, true]);
    expect(find('ConfigMap', `${service}-config`)).toBeDefined();
  });

  it.each((SERVICE_MANIFEST.monitors ?? []).filter((m) => m.kind !== 'collector').map((m) => m.name))('runs the monitor %s once, probing every service by its Service name and port, scraped, non-root and read-only', (monitor) => {
    const deployment = find('Deployment', monitor) as Obj & { spec: { replicas: number; template: { spec: { containers: Container[] } } } };
    expect(deployment.spec.replicas).toBe(1);
    const [container] = deployment.spec.template.spec.containers;
    expect([container.livenessProbe.httpGet.path, container.readinessProbe.httpGet.path]).toEqual([MONITORING_ROUTES.live, MONITORING_ROUTES.ready]);
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    const targets = (find('ConfigMap', `${monitor}-config`) as Obj & { data: Record<string, string> }).data['PROBE_TARGETS'].split(',');
    expect(targets).toEqual(SERVICE_NAMES.map((s) => `${s}=http://${s}:${(find('Service', s) as Obj & { spec: { ports: { port: number }[] } }).spec.ports[0].port}`));
    expect(find('ServiceMonitor', monitor)).toBeDefined();
  });

  it.each((SERVICE_MANIFEST.monitors ?? []).filter((m) => m.kind === 'collector').map((m) => m.name))('runs the audit collector %s once on a claimed volume, reading the audit stream every service publishes to', (name) => {
    const deployment = find('Deployment', name) as Obj & { spec: { replicas: number; strategy: { type: string }; template: { spec: { containers: Container[]; volumes: { name: string; persistentVolumeClaim?: { claimName: string } }[] } } } };
    // One replica: its SQLite store is on a ReadWriteOnce claim, so a rollout replaces it rather than starting a second.
    expect([deployment.spec.replicas, deployment.spec.strategy.type]).toEqual([1, 'Recreate']);
    const [container] = deployment.spec.template.spec.containers;
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(container.volumeMounts).toContainEqual({ name: 'data', mountPath: '/data' });
    expect(deployment.spec.template.spec.volumes).toContainEqual({ name: 'data', persistentVolumeClaim: { claimName: `${name}-data` } });
    expect(find('PersistentVolumeClaim', `${name}-data`)).toBeDefined();
    const config = (find('ConfigMap', `${name}-config`) as Obj & { data: Record<string, string> }).data;
    const nats = find('Service', 'nats') as Obj & { spec: { ports: { name: string; port: number }[] } };
    const streamUrl = `nats://nats:${nats.spec.ports.find((p) => p.name === 'client')?.port}`;
    expect([config['COLLECTOR_STREAM_URL'], config['DATA_DIR'], config['AUDIT_STREAM_URL'], config['AUDIT_DATABASE_URL']]).toEqual([streamUrl, '/data', undefined, undefined]);
    for (const service of SERVICE_NAMES) expect([service, (find('ConfigMap', `${service}-config`) as Obj & { data: Record<string, string> }).data['AUDIT_STREAM_URL']]).toEqual([service, streamUrl]);
    expect(find('ServiceMonitor', name)).toBeDefined();
  });

  it('runs NATS with JetStream on a claimed volume, its exporter scraped, reachable only from the apps and the monitoring namespace', () => {
    const nats = find('StatefulSet', 'nats') as Obj & { spec: { volumeClaimTemplates: { metadata: { name: string } }[]; template: { spec: { containers: (Container & { args: string[] })[] } } } };
    const [server, exporter] = nats.spec.template.spec.containers;
    expect(server.args).toEqual(expect.arrayContaining(['--jetstream', '--store_dir=/data']));
    expect(server.volumeMounts).toContainEqual({ name: 'data', mountPath: '/data' });
    expect(nats.spec.volumeClaimTemplates.map((t) => t.metadata.name)).toEqual(['data']);
    expect(exporter.args).toEqual(expect.arrayContaining(['-jsz=all']));
    const monitor = find('ServiceMonitor', 'nats') as Obj & { spec: { endpoints: { port: string }[] } };
    expect(monitor.spec.endpoints).toEqual([expect.objectContaining({ port: 'metrics' })]);
    for (const c of [server, exporter]) expect([c.name, c.securityContext]).toEqual([c.name, expect.objectContaining({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false })]);
    expect(find('NetworkPolicy', 'nats')).toBeDefined();
  });

  it.each(SERVICE_NAMES)('probes %s on paths and a port the app really serves', (service) => {
    const deployment = find('Deployment', service) as Obj & { spec: { template: { spec: { containers: Container[]; terminationGracePeriodSeconds: number } } } };
    const [container] = deployment.spec.template.spec.containers;
    expect(container.ports).toEqual([expect.objectContaining({ name: 'http', containerPort: SERVICE_PORTS[service] })]);
    expect((find('ConfigMap', `${service}-config`) as Obj & { data: Record<string, string> }).data['PORT']).toBe(String(SERVICE_PORTS[service]));
    expect(container.livenessProbe.httpGet).toEqual({ path: MONITORING_ROUTES.live, port: 'http' });
    expect(container.readinessProbe.httpGet).toEqual({ path: MONITORING_ROUTES.ready, port: 'http' });
    expect(container.startupProbe.httpGet).toEqual({ path: MONITORING_ROUTES.live, port: 'http' });
    const monitor = find('ServiceMonitor', service) as Obj & { spec: { endpoints: { port: string; path: string }[] } };
    expect(monitor.spec.endpoints).toEqual([expect.objectContaining({ port: 'http', path: MONITORING_ROUTES.metrics })]);
    const svc = find('Service', service) as Obj & { spec: { ports: { port: number; targetPort: string }[] } };
    expect(svc.spec.ports).toEqual([expect.objectContaining({ port: SERVICE_PORTS[service], targetPort: 'http' })]);
  });

  it('gives every integration-controller replica the one token key (a required Secret) and the queue\'s Redis only when its Secret exists', () => {
    const deployment = find('Deployment', 'integration-controller') as Obj & { spec: { replicas: number; template: { spec: { containers: Container[] } } } };
    const env = Object.fromEntries((deployment.spec.template.spec.containers[0].env ?? []).map((e) => [e.name, e.valueFrom?.secretKeyRef]));
    expect(env['TOKEN_ENCRYPTION_KEY']).toEqual({ name: 'personai-token-key', key: 'key' });
    expect(env['REDIS_URL']).toEqual({ name: 'personai-redis', key: 'url', optional: true });
    if (overlay === 'dev') expect(find('Secret', 'personai-token-key')).toBeDefined();
  });

  it.each(SERVICE_NAMES)('anchors %s\'s signed audit checkpoints on a claimed volume of their own, apart from /data, that outlives its pods', (service) => {
    const deployment = find('Deployment', service) as Obj & { spec: { template: { spec: { containers: Container[]; volumes: { name: string; persistentVolumeClaim?: { claimName: string }; emptyDir?: object }[] } } } };
    const pod = deployment.spec.template.spec;
    const dir = (find('ConfigMap', `${service}-config`) as Obj & { data: Record<string, string> }).data['AUDIT_CHECKPOINT_DIR'];
    expect(dir).toBe('/audit-checkpoints');
    const mount = pod.containers[0].volumeMounts?.find((m) => m.mountPath === dir);
    const volume = pod.volumes.find((v) => v.name === mount?.name);
    expect(volume).toEqual({ name: 'audit-checkpoints', persistentVolumeClaim: { claimName: `${service}-audit-checkpoints` } });
    expect(pod.volumes.find((v) => v.name === 'data')?.persistentVolumeClaim).toBeUndefined(); // not the data volume
    const claim = find('PersistentVolumeClaim', `${service}-audit-checkpoints`) as Obj & { spec: { accessModes: string[] } };
    // Shared by every replica in prod; one replica on a one-node dev cluster.
    expect(claim.spec.accessModes).toEqual([overlay === 'dev' ? 'ReadWriteOnce' : 'ReadWriteMany']);
  });

  it.each(SERVICE_NAMES)('runs %s non-root, read-only, with limits, secrets by reference and a drain that ends before the kubelet sends SIGKILL', (service) => {
    const deployment = find('Deployment', service) as Obj & { spec: { template: { spec: { securityContext: Record<string, unknown>; containers: Container[]; terminationGracePeriodSeconds: number } } } };
    const pod = deployment.spec.template.spec;
    const [container] = pod.containers;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(container.resources.requests).toBeDefined();
    expect(container.resources.limits).toBeDefined();
    const secrets = Object.fromEntries((container.env ?? []).filter((e) => e.valueFrom?.secretKeyRef).map((e) => [e.name, e.valueFrom?.secretKeyRef?.name]));
    const own = SERVICE_MANIFEST.services.find((s) => s.name === service)?.secrets ?? [];
    expect(secrets).toEqual({ AUDIT_DATABASE_URL: 'personai-audit-db', MONITORING_TOKEN: 'personai-monitoring', ...Object.fromEntries(own.map((x) => [x.env, x.secret])) });
    // The app drains on SIGTERM; its whole shutdown must end before the kubelet's SIGKILL.
    const config = (find('ConfigMap', `${service}-config`) as Obj & { data: Record<string, string> }).data;
    const drain = seconds(config['SHUTDOWN_DRAIN_DELAY']);
    const grace = seconds(config['SHUTDOWN_GRACE_PERIOD']);
    expect(drain).toBeGreaterThan(0);
    expect(grace).toBeGreaterThan(drain);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(grace);
    expect(container.lifecycle?.preStop).toBeUndefined(); // a preStop sleep would add to the drain
  });

  it(overlay === 'dev' ? "mounts each service's public key in the audit collector: a checkpoint signed with the key of the service's Secret verifies" : 'gives the audit collector no public keys (prod mounts its own)', () => {
    const deployment = find('Deployment', 'audit-collector') as Obj & { spec: { template: { spec: { containers: Container[]; volumes: { name: string; configMap?: { name: string } }[] } } } };
    const pod = deployment.spec.template.spec;
    const dir = (find('ConfigMap', 'audit-collector-config') as Obj & { data: Record<string, string> }).data['COLLECTOR_PUBLIC_KEYS_DIR'];
    if (overlay !== 'dev') {
      expect([dir, pod.volumes.filter((v) => v.configMap)]).toEqual([undefined, []]);
      return;
    }
    const mount = pod.containers[0].volumeMounts?.find((m) => m.mountPath === dir);
    const volume = pod.volumes.find((v) => v.name === mount?.name);
    const keys = (find('ConfigMap', volume?.configMap?.name ?? '(none)') as Obj & { data: Record<string, string> }).data;
    // The collector reads `<service>.pem` (the file name is the service): one per service, each its Secret's key.
    expect(Object.keys(keys).sort()).toEqual(SERVICE_NAMES.map((s) => `${s}.pem`).sort());
    const message = Buffer.from('checkpoint body');
    for (const service of SERVICE_NAMES) {
      const deploymentOf = find('Deployment', service) as Obj & { spec: { template: { spec: { containers: Container[] } } } };
      const ref = deploymentOf.spec.template.spec.containers[0].env?.find((e) => e.name === 'AUDIT_SIGNING_KEY')?.valueFrom?.secretKeyRef;
      const secret = find('Secret', ref?.name ?? '(none)') as Obj & { data: Record<string, string> };
      const privateKey = createPrivateKey(Buffer.from(Buffer.from(secret.data[ref?.key ?? ''].replace(/\n/g, ''), 'base64').toString('utf8'), 'base64').toString('utf8'));
      const signature = sign(null, message, privateKey);
      expect([service, verify(null, message, createPublicKey(keys[`${service}.pem`]), signature)]).toEqual([service, true]);
    }
  });

  it(overlay === 'dev' ? 'runs the fakes and allows fault injection' : 'runs in production mode without fault injection', () => {
    const configs = SERVICE_NAMES.map((s) => (find('ConfigMap', `${s}-config`) as Obj & { data: Record<string, string> }).data);
    if (overlay === 'dev') {
      expect(find('Deployment', 'fake-upstreams')).toBeDefined();
      expect(configs.every((c) => c['FAULT_INJECTION_ENABLED'] === 'true')).toBe(true);
    } else {
      expect(find('Deployment', 'fake-upstreams')).toBeUndefined();
      expect(configs.every((c) => c['NODE_ENV'] === 'production' && c['FAULT_INJECTION_ENABLED'] === undefined)).toBe(true);
      expect(configs.flatMap((c) => Object.values(c)).filter((v) => v.includes('fake-upstreams'))).toEqual([]);
    }
  });
});

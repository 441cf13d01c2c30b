import manifest from '../services.json';

/** One service as the manifest (libs/contracts/src/services.json) declares it. */
export interface ServiceManifestEntry {
  name: string;
  port: number;
  /** fake-upstreams APIs it calls: a non-critical `<upstream>_api` dependency, URL in `<UPSTREAM>_API_URL`. */
  upstreams: string[];
  /** Other services it calls, URL in `<SERVICE>_URL` (not reported in /health: a service's own health is its own). */
  calls: string[];
  /** Checks of its own in /health besides its upstreams and the database (integration-controller's job `queue`). */
  checks?: string[];
  /** Environment variables it reads from Secrets (Kubernetes), besides the audit database and the monitoring token. */
  secrets?: { env: string; secret: string; key: string; optional?: boolean; /** The value of the dev overlay and compose (never prod). */ dev?: string }[];
  /** Metric families the service owns besides the core ones. */
  businessMetrics: string[];
}

export interface ServiceManifest {
  image: string;
  fakes: { name: string; port: number; readyPath: string };
  /** Each upstream API fake-upstreams imitates, with the real API's base URL the prod overlay points at. */
  upstreams: Record<string, { production: string }>;
  services: ServiceManifestEntry[];
  /**
   * Apps that watch the services, scraped and deployed like them but not among the monitored services: the prober
   * (`kind` omitted) or the audit collector (`kind: "collector"`, deployed with the audit stream it reads).
   */
  monitors?: { name: string; kind?: string; port: number; businessMetrics: string[] }[];
}

/** The manifest of the services: the one place a service, its port and its dependencies are declared. */
export const SERVICE_MANIFEST: ServiceManifest = manifest;

export type ServiceName = string;

export const SERVICE_NAMES: readonly ServiceName[] = manifest.services.map((s) => s.name);

/** The monitored services and their default ports (CONTRACT.md §1). */
export const SERVICE_PORTS: Readonly<Record<ServiceName, number>> = Object.fromEntries(manifest.services.map((s) => [s.name, s.port]));

export const FAKE_UPSTREAMS_PORT = manifest.fakes.port;

/** The environment variable holding the base URL of an upstream API (`gmail` → `GMAIL_API_URL`). */
export const upstreamUrlVariable = (upstream: string): string => `${upstream.toUpperCase()}_API_URL`;

/** The environment variable holding the base URL of another service (`content-engine` → `CONTENT_ENGINE_URL`). */
export const serviceUrlVariable = (service: string): string => `${service.toUpperCase().replace(/-/g, '_')}_URL`;

/**
 * Dependencies each service reports in GET /health in its default configuration; `database` is the only
 * critical one (integration-controller adds a critical `redis` when REDIS_URL is set).
 */
export const SERVICE_DEPENDENCIES: Readonly<Record<ServiceName, readonly string[]>> = Object.fromEntries(
  manifest.services.map((s: ServiceManifestEntry) => [s.name, [...s.upstreams.map((u) => `${u}_api`), ...(s.checks ?? []), 'database']]),
);

/** The monitoring routes every service serves (the e2e suite calls each; the deploy manifests probe them). */
export const MONITORING_ROUTES = {
  health: '/health',
  live: '/health/live',
  ready: '/health/ready',
  metrics: '/metrics',
  audit: '/audit',
} as const;

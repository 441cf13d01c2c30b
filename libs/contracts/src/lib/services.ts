/** The four monitored services and the fakes, with their default ports (CONTRACT.md §1). */
export const SERVICE_PORTS = {
  'integration-controller': 8001,
  'content-engine': 8002,
  'media-engine': 8003,
  'delivery-gateway': 8004,
} as const;

export type ServiceName = keyof typeof SERVICE_PORTS;

export const SERVICE_NAMES = Object.keys(SERVICE_PORTS) as ServiceName[];

export const FAKE_UPSTREAMS_PORT = 8010;

/** Dependencies each service reports in GET /health; `database` is the only critical one. */
export const SERVICE_DEPENDENCIES: Record<ServiceName, readonly string[]> = {
  'integration-controller': ['gmail_api', 'slack_api', 'quickbooks_api', 'salesforce_api', 'database'],
  'content-engine': ['openai_api', 'database'],
  'media-engine': ['elevenlabs_api', 'database'],
  'delivery-gateway': ['slack_api', 'gmail_api', 'sms_api', 'database'],
};

/** The monitoring routes every service serves (the e2e suite calls each; the deploy manifests probe them). */
export const MONITORING_ROUTES = {
  health: '/health',
  live: '/health/live',
  ready: '/health/ready',
  metrics: '/metrics',
  audit: '/audit',
} as const;

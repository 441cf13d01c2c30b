import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';
import { requestIdFor } from '../http/request-id';
import type { ServiceEnv } from '../config/service-env';

/** Never in a log line: credentials in headers, and secret-looking fields of anything logged. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  ...['password', 'token', 'access_token', 'refresh_token', 'api_key', 'apiKey', 'secret', 'authorization'].flatMap((k) => [k, `*.${k}`]),
];

/** Probes and scrapes are polled every few seconds: no access-log line for them. */
const QUIET_PATHS = new Set(['/health/live', '/health/ready', '/metrics']);

/**
 * nestjs-pino (pino-http) options: JSON lines on stdout at LOG_LEVEL, `service` on every line,
 * `request_id` (the x-request-id the response carries) on every line logged while serving a request,
 * one access-log line per request (probes and scrapes excepted; 5xx at error, 4xx at warn level),
 * secrets redacted.
 */
export function loggerParams(config: ServiceEnv): Params {
  return {
    pinoHttp: {
      level: config.LOG_LEVEL,
      base: { service: config.SERVICE_NAME },
      // Fastify gave the request its id already (Nest's middleware layer copies it to the raw request).
      genReqId: (req: IncomingMessage) => (req as IncomingMessage & { id?: string }).id ?? requestIdFor(req),
      quietReqLogger: true,
      customAttributeKeys: { reqId: 'request_id' },
      // Server errors at error level, client errors at warn, the rest at info.
      customLogLevel: (_req: IncomingMessage, res: ServerResponse, err?: Error) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
      autoLogging: { ignore: (req: IncomingMessage) => QUIET_PATHS.has((req.url ?? '').split('?')[0]) },
      redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
      serializers: {
        req: (req: { id: string; method: string; url: string; remoteAddress?: string }) => ({ id: req.id, method: req.method, url: req.url, remote_address: req.remoteAddress }),
      },
    },
  };
}

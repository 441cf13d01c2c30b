import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';

type HelmetOptions = Parameters<typeof helmet>[0];

/**
 * The headers helmet sets, captured once by running its middleware against a recording response.
 * helmet's headers depend only on its options, never on the request (no nonces are configured here), so
 * setting the captured object on each reply (`reply.headers(...)`) is exactly what helmet would do, without
 * its per-request work. `precomputedSecurityHeaders` refuses options whose middleware is asynchronous or
 * touches anything but headers, rather than capture something partial.
 */
export function precomputedSecurityHeaders(options: HelmetOptions): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: string | number | readonly string[]) => {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader: (name: string) => {
      delete headers[name.toLowerCase()];
    },
  };
  let finished = false;
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, (err?: unknown) => {
    if (err) throw err;
    finished = true;
  });
  if (!finished) throw new Error('helmet did not finish synchronously: its headers cannot be precomputed');
  return Object.freeze(headers);
}

/** helmet's options for a JSON API: of its headers, only those of OWASP's REST set (the rest concern HTML pages). */
export const API_HELMET_OPTIONS: HelmetOptions = {
  contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
  strictTransportSecurity: true,
  xContentTypeOptions: true,
  xFrameOptions: { action: 'deny' },
  crossOriginEmbedderPolicy: false,
  crossOriginOpenerPolicy: false,
  crossOriginResourcePolicy: false,
  originAgentCluster: false,
  referrerPolicy: false,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xPermittedCrossDomainPolicies: false,
  xXssProtection: false,
};

/**
 * Every answer of the JSON API: OWASP's REST security headers (Cache-Control: no-store, a CSP that frames and
 * loads nothing, HSTS for when TLS terminates in front, nosniff, X-Frame-Options: DENY), Content-Type being the
 * route's own. Five headers in one prepared object, not helmet's thirteen: a route that may be cached (none is
 * today) sets its own Cache-Control after this.
 */
export const API_SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({ ...precomputedSecurityHeaders(API_HELMET_OPTIONS), 'cache-control': 'no-store' });

/** The API docs page (Swagger UI): its own scripts, styles and images may load, nothing else. */
export const DOCS_SECURITY_HEADERS = precomputedSecurityHeaders({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: { defaultSrc: ["'none'"], scriptSrc: ["'self'"], styleSrc: ["'self'", "'unsafe-inline'"], imgSrc: ["'self'", 'data:'], connectSrc: ["'self'"], frameAncestors: ["'none'"] },
  },
  crossOriginResourcePolicy: { policy: 'same-origin' },
});

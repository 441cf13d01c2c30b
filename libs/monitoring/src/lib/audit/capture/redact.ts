/** Keys whose values never reach the audit log (matched case-insensitively, anywhere in the key). */
const SECRET_KEY = /pass(word)?|secret|token|authorization|api[-_]?key|cookie|credential|private[-_]?key/i;
const MAX_STRING = 512;
const MAX_DEPTH = 4;
export const REDACTED = '[REDACTED]';

/**
 * Copies `value` with secrets replaced, control characters (CR/LF included) escaped
 * and long strings truncated, so that nothing in `details` can leak or forge log lines.
 */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return sanitizeString(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[TRUNCATED]';
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[sanitizeString(key)] = SECRET_KEY.test(key) ? REDACTED : redact(v, depth + 1);
  }
  return out;
}

function sanitizeString(value: string): string {
  // eslint-disable-next-line no-control-regex -- escaping control characters is the point
  const escaped = value.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return escaped.length > MAX_STRING ? `${escaped.slice(0, MAX_STRING)}…[truncated]` : escaped;
}

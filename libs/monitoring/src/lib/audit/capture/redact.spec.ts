import { redact, REDACTED } from './redact';

describe('redact', () => {
  it('replaces secrets at any depth, whatever the key case', () => {
    const out = redact({ password: 'p', nested: { Access_Token: 't', api_key: 'k', Authorization: 'Bearer x', cookie: 'c', keep: 'v' } });
    expect(out).toEqual({ password: REDACTED, nested: { Access_Token: REDACTED, api_key: REDACTED, Authorization: REDACTED, cookie: REDACTED, keep: 'v' } });
  });

  it('escapes CR, LF and other control characters so no line can be forged', () => {
    expect(redact({ user: 'alice\r\nFAKE LINE\u0000' })).toEqual({ user: 'alice\\u000d\\u000aFAKE LINE\\u0000' });
  });

  it('truncates long values and deep nesting', () => {
    const out = redact({ long: 'x'.repeat(2000), deep: { a: { b: { c: { d: 1 } } } } }) as Record<string, unknown>;
    expect((out['long'] as string).length).toBeLessThan(600);
    expect(JSON.stringify(out['deep'])).toContain('[TRUNCATED]');
  });
});

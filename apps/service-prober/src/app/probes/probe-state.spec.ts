import { CheckState, ProbeResult } from './probe-state';

const run = (at: number, ok: boolean, maintenance = false): ProbeResult => ({ at, ok, ms: 10, maintenance, error: ok ? undefined : `boom ${at}` });

describe('CheckState (failure and success thresholds)', () => {
  it('takes the first result as the state, then flips down only after 3 failures in a row and up after 2 successes', () => {
    const s = new CheckState('ce', 'health', { failure: 3, success: 2 });
    expect(s.record(run(1, true))).toBeUndefined();
    expect(s.up).toBe(true);
    s.record(run(2, false));
    s.record(run(3, false));
    s.record(run(4, true)); // the streak is broken: still up
    s.record(run(5, false));
    s.record(run(6, false));
    expect(s.up).toBe(true);
    expect(s.record(run(7, false))).toEqual({ target: 'ce', check: 'health', since: 5, error: 'boom 7' });
    expect(s.up).toBe(false);
    expect(s.record(run(8, true))).toBeUndefined();
    expect(s.up).toBe(false);
    expect(s.record(run(9, true))).toEqual({ target: 'ce', check: 'health', since: 5, until: 9, error: 'boom 7' });
    expect(s.up).toBe(true);
    expect(s.open).toBeUndefined();
  });

  it('opens an incident at once when the very first result fails', () => {
    const s = new CheckState('ce', 'audit', { failure: 3, success: 1 });
    expect(s.record(run(1, false))).toEqual(expect.objectContaining({ since: 1 }));
    expect(s.up).toBe(false);
  });

  it('lets results inside a maintenance window flip nothing, though they are kept for the page', () => {
    const s = new CheckState('ce', 'health', { failure: 1, success: 1 });
    s.record(run(1, true));
    for (let t = 2; t < 10; t += 1) expect(s.record(run(t, false, true))).toBeUndefined();
    expect(s.up).toBe(true);
    expect(s.history).toHaveLength(9);
  });
});

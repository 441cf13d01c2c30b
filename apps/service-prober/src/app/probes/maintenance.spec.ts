import { inMaintenance, parseMaintenance } from './maintenance';

describe('maintenance windows', () => {
  const at = (iso: string) => Date.parse(iso);

  it('reads one-off and weekly windows, per target or for all (*)', () => {
    const w = parseMaintenance('content-engine=2026-12-03T10:00:00Z/2026-12-03T11:00:00Z; *=sat-sun 02:00-03:30');
    expect(inMaintenance(w, 'content-engine', at('2026-12-03T10:30:00Z'))).toBe(true);
    expect(inMaintenance(w, 'media-engine', at('2026-12-03T10:30:00Z'))).toBe(false);
    expect(inMaintenance(w, 'content-engine', at('2026-12-03T11:00:00Z'))).toBe(false);
    expect(inMaintenance(w, 'media-engine', at('2026-12-05T02:10:00Z'))).toBe(true); // a Saturday
    expect(inMaintenance(w, 'media-engine', at('2026-12-06T03:29:00Z'))).toBe(true); // a Sunday
    expect(inMaintenance(w, 'media-engine', at('2026-12-07T02:10:00Z'))).toBe(false); // a Monday
  });

  it('wraps a day range across the week (fri-mon)', () => {
    const w = parseMaintenance('*=fri-mon 00:00-24:00');
    // 2026-12-04 is a Friday, the 8th a Tuesday.
    expect([4, 5, 6, 7, 8].map((d) => inMaintenance(w, 'x', at(`2026-12-0${d}T12:00:00Z`)))).toEqual([true, true, true, true, false]);
  });

  it.each([
    ['content-engine', '"content-engine" is not target=window'],
    ['x=tomorrow', '"tomorrow" is neither'],
    ['x=mon 03:00-02:00', 'the end must be after the start'],
    ['x=2026-12-03T11:00:00Z/2026-12-03T10:00:00Z', 'with the end after the start'],
    ['x=funday 01:00-02:00', '"funday" is not a day'],
  ])('refuses %s, naming what is wrong', (value, message) => {
    expect(() => parseMaintenance(value)).toThrow(message);
  });
});

import { barState, sparkline, uptimeBars } from './index';

describe('status charts', () => {
  it('draws one bar per entry, coloured by state, with its title escaped', () => {
    const svg = uptimeBars([{ state: 'ok', title: 'a' }, { state: 'bad', title: '<b>' }], 'uptime');
    expect(svg.match(/<rect /g)).toHaveLength(2);
    expect(svg).toContain('fill="var(--bad)"><title>&#60;b&#62;</title>');
  });

  it('tells a bar state from its counts', () => {
    expect([barState(0, 0), barState(0, 0, 3), barState(20, 0), barState(20, 1), barState(20, 2)]).toEqual(['none', 'maint', 'ok', 'warn', 'bad']);
  });

  it('draws the budget line and turns the latency red once a point is over it', () => {
    expect(sparkline([10, 20], 500)).toContain('class="lat"');
    expect(sparkline([10, 600], 500)).toContain('class="lat over"');
    expect(sparkline([10], 500)).not.toContain('polyline');
  });
});

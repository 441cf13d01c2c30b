import { loadFakeUpstreamsConfig } from '../../config/fake-upstreams.config';
import { FaultsService } from './faults.service';

describe('FaultsService', () => {
  it('FAKE_PROFILE=realistic makes each health path answer 75% of the time, the same way on every run', () => {
    const run = () => {
      const faults = new FaultsService(loadFakeUpstreamsConfig({ FAKE_PROFILE: 'realistic' }));
      return Array.from({ length: 1000 }, () => faults.decide('GET', '/gmail/health', undefined).kind);
    };
    const first = run();
    const passed = first.filter((k) => k === 'pass').length;
    expect(Math.abs(passed - 750)).toBeLessThanOrEqual(45);
    expect(run()).toEqual(first);
  });

  it('gives each target its own random stream: upstreams in the realistic profile fail independently', () => {
    const faults = new FaultsService(loadFakeUpstreamsConfig({ FAKE_PROFILE: 'realistic' }));
    const outcomes = (target: string) => Array.from({ length: 400 }, () => faults.decide('GET', `/${target}/health`, undefined).kind === 'pass');
    const gmail = outcomes('gmail');
    const slack = outcomes('slack');
    const same = gmail.filter((g, i) => g === slack[i]).length;
    // Independent streams at 75% agree about 0.75² + 0.25² = 62.5% of the time; lockstep streams agree 100%.
    expect(same / gmail.length).toBeLessThan(0.75);
    expect(same / gmail.length).toBeGreaterThan(0.5);
  });

  it('leaves data paths alone in the realistic profile, and everything alone in the clean one', () => {
    const realistic = new FaultsService(loadFakeUpstreamsConfig({ FAKE_PROFILE: 'realistic' }));
    expect(new Set(Array.from({ length: 200 }, () => realistic.decide('GET', '/gmail/v1/users/me/messages', 'Bearer t').kind))).toEqual(new Set(['pass']));
    const clean = new FaultsService(loadFakeUpstreamsConfig({}));
    expect(clean.list()).toEqual([]);
    expect(clean.decide('GET', '/gmail/health', undefined)).toEqual({ kind: 'pass' });
  });

  it('matches the first segment of the path as the target, ignoring the query', () => {
    const faults = new FaultsService(loadFakeUpstreamsConfig({}));
    faults.add({ target: 'sms', mode: 'down', path: '/v1' });
    expect(faults.decide('POST', '/sms/v1/messages?x=1', 'Bearer t').kind).toBe('respond');
    expect(faults.decide('GET', '/sms/health', undefined).kind).toBe('pass');
    expect(faults.decide('POST', '/smsx/v1/messages', 'Bearer t').kind).toBe('pass');
  });
});

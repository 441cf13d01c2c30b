import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SystemReadingsService } from './system-readings.service';

describe('SystemReadingsService', () => {
  it('reads memory, CPU and disk as percentages of real resources', async () => {
    const readings = new SystemReadingsService({ serviceName: 's', version: '1.0.0', auditDatabase: join(tmpdir(), 'x', 'audit.db') });
    const burnUntil = Date.now() + 150;
    while (Date.now() < burnUntil) Math.sqrt(Math.random());
    readings.sample();
    const r = readings.read();
    for (const value of Object.values(r)) {
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThanOrEqual(100);
    }
    // A live process uses memory and the temp file system holds files: neither can read zero.
    expect(r.memory_usage_percent).toBeGreaterThan(0);
    expect(r.disk_usage_percent).toBeGreaterThan(0);
    // The busy loop above ran on one core of this machine for the whole sample.
    expect(r.cpu_usage_percent).toBeGreaterThan(0);
  });
});

import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cgroupMemoryPercent, SystemReadingsService } from './system-readings.service';

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

  it('counts a cgroup memory as Kubernetes does: usage minus inactive file pages (v2 and v1)', () => {
    const GiB = 1024 ** 3;
    const v2: Record<string, string> = {
      '/sys/fs/cgroup/memory.max': String(4 * GiB),
      '/sys/fs/cgroup/memory.current': String(3 * GiB),
      '/sys/fs/cgroup/memory.stat': `anon ${GiB}\nfile ${2 * GiB}\ninactive_file ${2 * GiB}\nactive_file 0`,
    };
    expect(cgroupMemoryPercent((p) => v2[p], 64 * GiB)).toBe(25);
    const v1: Record<string, string> = {
      '/sys/fs/cgroup/memory/memory.limit_in_bytes': String(2 * GiB),
      '/sys/fs/cgroup/memory/memory.usage_in_bytes': String(GiB),
      '/sys/fs/cgroup/memory/memory.stat': `cache 5\ninactive_file 7\ntotal_inactive_file ${GiB / 2}`,
    };
    expect(cgroupMemoryPercent((p) => v1[p], 64 * GiB)).toBe(25);
    expect(cgroupMemoryPercent((p) => ({ '/sys/fs/cgroup/memory.max': 'max' })[p], 64 * GiB)).toBeUndefined();
  });
});

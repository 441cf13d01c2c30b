import { Inject, Injectable } from '@nestjs/common';
import { readFileSync, statfsSync } from 'node:fs';
import * as os from 'node:os';
import { dirname } from 'node:path';
import type { SystemReadings } from '@personai/contracts';
import { isPostgresUrl } from '../audit/stores/audit-database-url';
import { MONITORING_MODULE_OPTIONS } from '../monitoring.constants';
import { MonitoringModuleOptions } from '../monitoring-options.interface';

interface CpuSample {
  at: number;
  /** CPU time used, in microseconds, by the container (cgroup) or the whole host. */
  usedUs: number;
  /** CPU time available per wall-clock microsecond (cores, or the cgroup quota). */
  capacity: number;
}

/**
 * Real memory, CPU and disk readings, container-aware where a cgroup limit exists. They are taken once
 * per probe round (`sample()`), not per request, so GET /health does no file-system work.
 */
@Injectable()
export class SystemReadingsService {
  private lastSample: CpuSample = sampleCpu();
  private cpuPercent = sinceBootCpuPercent();
  private readonly diskPath: string;
  private readings: SystemReadings;

  constructor(@Inject(MONITORING_MODULE_OPTIONS) options: MonitoringModuleOptions) {
    this.diskPath = options.diskPath ?? (isPostgresUrl(options.auditDatabase) ? process.cwd() : dirname(options.auditDatabase));
    this.readings = this.measure();
  }

  /** Takes new readings; the CPU figure is the average since the previous sample. */
  sample(): void {
    const next = sampleCpu();
    const wallUs = (next.at - this.lastSample.at) * 1000;
    if (wallUs >= 100_000) {
      this.cpuPercent = clampPercent(((next.usedUs - this.lastSample.usedUs) / (wallUs * next.capacity)) * 100);
      this.lastSample = next;
    }
    this.readings = this.measure();
  }

  /** The readings of the last sample. */
  read(): SystemReadings {
    return this.readings;
  }

  private measure(): SystemReadings {
    return {
      memory_usage_percent: round1(memoryPercent()),
      cpu_usage_percent: round1(this.cpuPercent),
      disk_usage_percent: round1(diskPercent(this.diskPath)),
    };
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * Memory use inside a cgroup as Kubernetes counts it (the working set, which the OOM killer and evictions
 * go by): usage minus inactive file pages, which the kernel reclaims first (SQLite's page cache is not
 * pressure). cgroup v2, then v1; undefined outside a memory-limited cgroup.
 */
export function cgroupMemoryPercent(read: (path: string) => string | undefined = readText, hostTotal = os.totalmem()): number | undefined {
  const v2Max = read('/sys/fs/cgroup/memory.max');
  if (v2Max && v2Max !== 'max') {
    const current = Number(read('/sys/fs/cgroup/memory.current'));
    return (workingSet(current, read('/sys/fs/cgroup/memory.stat'), 'inactive_file') / Number(v2Max)) * 100;
  }
  const v1Limit = Number(read('/sys/fs/cgroup/memory/memory.limit_in_bytes'));
  if (v1Limit > 0 && v1Limit < hostTotal) {
    const usage = Number(read('/sys/fs/cgroup/memory/memory.usage_in_bytes'));
    return (workingSet(usage, read('/sys/fs/cgroup/memory/memory.stat'), 'total_inactive_file') / v1Limit) * 100;
  }
  return undefined;
}

function workingSet(usage: number, stat: string | undefined, key: string): number {
  const match = stat && new RegExp(`^${key} (\\d+)$`, 'm').exec(stat);
  return Math.max(0, usage - (match ? Number(match[1]) : 0));
}

function memoryPercent(): number {
  const cgroup = cgroupMemoryPercent();
  if (cgroup !== undefined) return clampPercent(cgroup);
  const meminfo = readText('/proc/meminfo');
  const available = meminfo && /MemAvailable:\s+(\d+)/.exec(meminfo);
  const total = os.totalmem();
  const free = available ? Number(available[1]) * 1024 : os.freemem();
  return clampPercent(((total - free) / total) * 100);
}

function cgroupCpuQuota(): number | undefined {
  const [quota, period] = (readText('/sys/fs/cgroup/cpu.max') ?? '').split(' ');
  if (quota && quota !== 'max') return Number(quota) / Number(period);
  const v1Quota = Number(readText('/sys/fs/cgroup/cpu/cpu.cfs_quota_us'));
  const v1Period = Number(readText('/sys/fs/cgroup/cpu/cpu.cfs_period_us'));
  return v1Quota > 0 && v1Period > 0 ? v1Quota / v1Period : undefined;
}

function sampleCpu(): CpuSample {
  const at = Date.now();
  const quota = cgroupCpuQuota();
  if (quota !== undefined) {
    const stat = readText('/sys/fs/cgroup/cpu.stat');
    const usage = stat && /usage_usec\s+(\d+)/.exec(stat);
    const v1 = readText('/sys/fs/cgroup/cpuacct/cpuacct.usage');
    if (usage) return { at, usedUs: Number(usage[1]), capacity: quota };
    if (v1) return { at, usedUs: Number(v1) / 1000, capacity: quota };
  }
  const cpus = os.cpus();
  const busyMs = cpus.reduce((sum, c) => sum + c.times.user + c.times.nice + c.times.sys + c.times.irq, 0);
  return { at, usedUs: busyMs * 1000, capacity: cpus.length };
}

/** Before a second sample exists, the host's busy share since boot is the honest reading. */
function sinceBootCpuPercent(): number {
  const cpus = os.cpus();
  const total = cpus.reduce((s, c) => s + Object.values(c.times).reduce((a, b) => a + b, 0), 0);
  const idle = cpus.reduce((s, c) => s + c.times.idle, 0);
  return total > 0 ? clampPercent(((total - idle) / total) * 100) : 0;
}

/** Usage of the file system holding `path` (as `df` computes it); the root one if `path` is gone. */
function diskPercent(path: string): number {
  let s;
  try {
    s = statfsSync(path);
  } catch {
    s = statfsSync('/');
  }
  const used = s.blocks - s.bfree;
  return clampPercent((used / (used + s.bavail)) * 100);
}

function clampPercent(value: number): number {
  return Number.isFinite(value) ? Math.min(100, Math.max(0, value)) : 0;
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

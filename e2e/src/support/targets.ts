// Type-only import: this file is also loaded by the global setup, where path aliases do not resolve.
import type { ServiceName } from '@personai/contracts';

/** Where the suite's targets answer: set by the global setup (local stack) or MONITORING_TARGETS. */
export interface Targets {
  services: Record<ServiceName, string>;
  /** The fake upstreams' URL, only for a local stack (remote targets have real upstreams). */
  fakeUpstreams?: string;
  /** Data directory of the local stack. */
  dataDir?: string;
  local: boolean;
}

export const TARGETS_ENV = 'E2E_TARGETS';

/** Parses `integration-controller=https://...,content-engine=https://...`; every service must be named. */
export function parseMonitoringTargets(value: string, names: readonly string[]): Record<ServiceName, string> {
  const entries = value.split(',').map((pair) => pair.trim().split('='));
  const services = Object.fromEntries(entries.map(([name, url]) => [name, (url ?? '').replace(/\/$/, '')]));
  for (const name of names) {
    if (!services[name]) throw new Error(`MONITORING_TARGETS names no URL for ${name}`);
  }
  return services as Record<ServiceName, string>;
}

export function targets(): Targets {
  const raw = process.env[TARGETS_ENV];
  if (!raw) throw new Error(`${TARGETS_ENV} is not set: run the suite through its Jest config (global setup)`);
  return JSON.parse(raw) as Targets;
}

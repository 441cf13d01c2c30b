import type { ServiceName } from '@personai/contracts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One row of e2e/fault-matrix.json: a fault, what /health and a business call must show, and the alert it fires. */
export interface FaultMatrixRow {
  name: string;
  service: ServiceName;
  dependency: string;
  fault?: Record<string, unknown>;
  database_fault?: Record<string, unknown>;
  health: { status: string; http: number; dependency_up: boolean; error?: string; min_latency_ms?: number; ready_http?: number };
  /** The alert this fault must fire (alert-conformance.e2e-spec.ts), or null. */
  alert: { alertname: string; labels: Record<string, string> } | null;
  call: {
    method: 'POST';
    path: string;
    body: Record<string, unknown>;
    wait_for_brief?: boolean;
    expect: {
      http: number;
      audit: [string, boolean][];
      min_ms?: number;
      brief?: { status: string; failed_steps: string[] };
      upstream_errors?: { upstream: string; reason: string; delta: number };
    };
  };
}

export const FAULT_MATRIX = JSON.parse(readFileSync(join(__dirname, '..', '..', 'fault-matrix.json'), 'utf8')) as { rows: FaultMatrixRow[] };

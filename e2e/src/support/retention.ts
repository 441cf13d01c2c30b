import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSamples, valueOf } from './prom-text';
import type { ServiceProcess } from './service-process';

/**
 * A service's audit signing key for a spec: the private key (for signing a past the spec writes itself), its public
 * key saved at `<dataDir>/public-key.pem` (for the offline verifier), and the environment that gives the service the
 * key, a 30-day retention whose first pass starts a second after start-up, and `archiveDir` for the pruned events.
 */
export function retentionSetup(dataDir: string, archiveDir: string): { privateKey: KeyObject; env: Record<string, string> } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  writeFileSync(join(dataDir, 'public-key.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
  return {
    privateKey,
    env: {
      AUDIT_SIGNING_KEY: Buffer.from(privateKey.export({ type: 'pkcs8', format: 'pem' })).toString('base64'),
      AUDIT_RETENTION: '30d',
      AUDIT_RETENTION_INTERVAL: '1s',
      AUDIT_ARCHIVE_DIR: archiveDir,
    },
  };
}

/** Starts `service` and kills it -9 the moment `now()` holds (checked every 2 ms); fails if it never does within a minute. */
export async function killWhen(service: ServiceProcess, what: string, now: () => boolean | Promise<boolean>): Promise<void> {
  await service.start();
  const deadline = Date.now() + 60_000;
  while (!(await now())) {
    if (Date.now() > deadline) throw new Error(`the retention pass never reached the moment to kill it: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  const exit = await service.kill('SIGKILL');
  if (exit.signal !== 'SIGKILL') throw new Error(`${what}: the service had already exited (${JSON.stringify(exit)})`);
}

/** The archive files in `dir` (written whole), sorted. */
export const archiveFiles = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.ndjson')).sort();

/** The sizes of the temporary archive files in `dir`: being written, or left half-written by a killed process. */
export const partials = (dir: string): number[] => readdirSync(dir).filter((f) => f.endsWith('.partial')).map((f) => statSync(join(dir, f), { throwIfNoEntry: false })?.size ?? 0);

/**
 * Every archived event's id, file by file. Each file must end with the signed checkpoint of its last event, and hold
 * `rowsPerFile` events when given.
 */
export function archivedIds(dir: string, rowsPerFile?: number): string[] {
  const ids: string[] = [];
  for (const f of archiveFiles(dir)) {
    const lines = readFileSync(join(dir, f), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { id?: string; checkpoint?: { head_id: string } });
    const last = lines.pop();
    expect({ file: f, ends: last?.checkpoint?.head_id }).toEqual({ file: f, ends: lines[lines.length - 1]?.id });
    if (rowsPerFile !== undefined) expect({ file: f, rows: lines.length }).toEqual({ file: f, rows: rowsPerFile });
    ids.push(...lines.map((l) => l.id as string));
  }
  return ids;
}

/** A service's retention passes by outcome, and what its last completed pass left past the retention, off its /metrics. */
export async function retentionReadings(url: string): Promise<Record<'pruned' | 'idle' | 'blocked' | 'failed' | 'overdue', number>> {
  const samples = parseSamples(await (await fetch(`${url}/metrics`)).text());
  const [pruned, idle, blocked, failed] = ['pruned', 'idle', 'blocked', 'failed'].map((outcome) => valueOf(samples, 'audit_retention_passes_total', { outcome }));
  return { pruned, idle, blocked, failed, overdue: valueOf(samples, 'audit_retention_overdue_seconds') };
}

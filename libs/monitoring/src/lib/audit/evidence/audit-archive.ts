import { mkdir, open, readdir, readFile, rename } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type AuditCheckpoint, safeName } from './audit-checkpoint';
import type { AuditRow } from './audit-row';

/**
 * Exports a pruned segment: one NDJSON line per row in commit order, then `{"checkpoint": …}`, the signed
 * checkpoint it ends at; fsynced before the rows are deleted. Named so that a directory listing sorts a
 * writer's segments in order.
 */
export function writeArchive(dir: string, checkpoint: AuditCheckpoint, rows: AuditRow[]): Promise<string> {
  return writeNdjson(dir, `${safeName(checkpoint.service)}__${safeName(checkpoint.writer)}__${String(checkpoint.sequence).padStart(10, '0')}.ndjson`, rows, [checkpoint]);
}

/**
 * Exports a time partition before it is dropped: its rows (every writer) in commit order, then the signed
 * checkpoint each writer's rows there end at. Named by the partition's end, so a listing sorts partitions
 * in time order.
 */
/** One time partition of a service, as retention sees it. */
export interface AuditPartition {
  name: string;
  /** The partition holds rows written before this time (ISO). */
  upper: string;
  rows: number;
  /** Per writer with rows in it: its last row there, and whether its chain continues in a later partition. */
  writers: { writer: string; last_id: string; continues: boolean }[];
}

export function writePartitionArchive(dir: string, service: string, partition: AuditPartition, rows: AsyncIterable<AuditRow>, checkpoints: readonly AuditCheckpoint[]): Promise<string> {
  return writeNdjson(dir, `${safeName(service)}__partition__${partition.upper.replace(/:/g, '-')}.ndjson`, rows, checkpoints);
}

/**
 * Rows then checkpoints as NDJSON, written to a temporary name a thousand lines at a time, fsynced and
 * renamed: two replicas archiving the same rows leave one whole file, and a crash leaves none half-written.
 */
async function writeNdjson(dir: string, name: string, rows: AsyncIterable<AuditRow> | Iterable<AuditRow>, checkpoints: readonly AuditCheckpoint[]): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, name);
  const temporary = `${path}.${process.pid}.partial`;
  const file = await open(temporary, 'w', 0o640);
  try {
    let lines: string[] = [];
    for await (const row of rows) {
      lines.push(JSON.stringify(row));
      if (lines.length >= 1000) {
        await file.write(`${lines.join('\n')}\n`);
        lines = [];
      }
    }
    lines.push(...checkpoints.map((checkpoint) => JSON.stringify({ checkpoint })));
    if (lines.length) await file.write(`${lines.join('\n')}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temporary, path);
  return path;
}

/** The archived rows of `service`, segment by segment in order, for a verifier that checks the archive and the live store together. */
export async function* archivedRows(dir: string, service: string): AsyncGenerator<AuditRow> {
  if (!existsSync(dir)) return;
  const files = (await readdir(dir)).filter((f) => f.startsWith(`${safeName(service)}__`) && f.endsWith('.ndjson')).sort();
  for (const f of files) {
    for (const line of (await readFile(join(dir, f), 'utf8')).split('\n')) {
      if (!line.trim()) continue;
      const value = JSON.parse(line) as AuditRow | { checkpoint: AuditCheckpoint };
      if (!('checkpoint' in value)) yield value;
    }
  }
}

import { mkdir, open, readdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type AuditCheckpoint, safeName } from './audit-checkpoint';
import type { AuditRow } from './audit-row';

/**
 * Exports a pruned segment: one NDJSON line per row in commit order, then `{"checkpoint": …}`, the signed
 * checkpoint it ends at; fsynced before the rows are deleted. Named so that a directory listing sorts a
 * writer's segments in order.
 */
export async function writeArchive(dir: string, checkpoint: AuditCheckpoint, rows: AuditRow[]): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${safeName(checkpoint.service)}__${safeName(checkpoint.writer)}__${String(checkpoint.sequence).padStart(10, '0')}.ndjson`);
  const file = await open(path, 'w', 0o640);
  try {
    await file.write(`${rows.map((r) => JSON.stringify(r)).join('\n')}\n${JSON.stringify({ checkpoint })}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
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

import { randomUUID } from 'node:crypto';
import { type FileHandle, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type AuditCheckpoint, safeName } from './audit-checkpoint';
import { GENESIS_HASH } from './audit-hash';
import type { AuditRow } from './audit-row';

/**
 * A pruned segment's file name: a listing sorts a writer's segments in order. The file holds one NDJSON line per row
 * in commit order, then `{"checkpoint": …}`, the signed checkpoint it ends at; it is fsynced before the rows are deleted.
 */
const segmentName = (checkpoint: AuditCheckpoint) => `${safeName(checkpoint.service)}__${safeName(checkpoint.writer)}__${String(checkpoint.sequence).padStart(10, '0')}.ndjson`;

/**
 * Exports a writer's rows pruned in steps (see ChainedAuditStore.prune) from one read of them: a file a step, named
 * by segmentName, holding the rows after the previous step's checkpoint through this one's, then this one. A step
 * whose checkpoint's event is not among `rows` (an earlier pass pruned through it, and its file holds its rows) gets
 * no file, so a file is never written again with fewer rows. Reading stops at the last step's event; the rows are
 * never all in memory.
 */
export async function writeArchives(dir: string, steps: readonly AuditCheckpoint[], rows: AsyncIterable<AuditRow>): Promise<string[]> {
  const stepOf = new Map(steps.map((cp) => [cp.head_id, cp]));
  const last = steps[steps.length - 1]?.head_id;
  const written: string[] = [];
  if (last === undefined) return written;
  const owner = steps[0].writer;
  let file: ArchiveFile | undefined;
  try {
    for await (const row of rows) {
      file ??= await ArchiveFile.open(dir, owner);
      await file.add(JSON.stringify(row));
      const step = stepOf.get(row.id);
      if (!step) continue;
      written.push(await file.finish(segmentName(step), [step]));
      file = undefined;
      if (row.id === last) break;
    }
  } finally {
    await file?.discard();
  }
  return written;
}

/** One time partition of a service, as retention sees it. */
export interface AuditPartition {
  name: string;
  /** The partition holds rows written before this time (ISO). */
  upper: string;
  rows: number;
  /** Per writer with rows in it: its last row there, and whether its chain continues in a later partition. */
  writers: { writer: string; last_id: string; continues: boolean }[];
}

/**
 * Exports a time partition before it is dropped: its rows (every writer) in commit order, then the signed
 * checkpoint each writer's rows there end at. Named by the partition's end, so a listing sorts partitions
 * in time order. `owner` is the writer whose pass archives it.
 */
export function writePartitionArchive(dir: string, owner: string, service: string, partition: AuditPartition, rows: AsyncIterable<AuditRow>, checkpoints: readonly AuditCheckpoint[]): Promise<string> {
  return writeNdjson(dir, owner, `${safeName(service)}__partition__${partition.upper.replace(/:/g, '-')}.ndjson`, rows, checkpoints);
}

/** A temporary file untouched this long is a dead process's (a live one writes to it every thousand rows). */
const ABANDONED_AFTER_MS = 3_600_000;
/** The temporary files this process is writing now. */
const writing = new Set<string>();
const temporaryOf = (owner: string) => `.${safeName(owner)}~`;

/**
 * Removes the temporary files of archives a killed process never finished (a `kill -9`, an OOM kill mid-file: nothing
 * ran to remove them, and a partition's can be gigabytes): every one of `owner`'s (the writer archiving; a writer
 * archives one file at a time, so one of its own that this process is not writing is a dead process's) and anyone's
 * left untouched for an hour (a writer id that died with its process is never seen again). Run once at the start of
 * every retention pass that has an archive directory, whether or not the pass then has anything to archive: a
 * leftover must not wait for the next rows old enough to prune.
 */
export async function sweepArchiveLeftovers(dir: string, owner: string): Promise<void> {
  if (!existsSync(dir)) return;
  const mine = temporaryOf(owner);
  for (const f of await readdir(dir)) {
    if (!f.startsWith('.') || !f.endsWith('.partial')) continue;
    const path = join(dir, f);
    if (writing.has(path)) continue;
    const abandoned = f.startsWith(mine) || (await stat(path).then((s) => Date.now() - s.mtimeMs > ABANDONED_AFTER_MS, () => false));
    if (abandoned) await rm(path, { force: true });
  }
}

/**
 * Rows then checkpoints as NDJSON, written to a temporary name a thousand lines at a time, fsynced and
 * renamed: two replicas archiving the same rows leave one whole file, and a crash leaves none half-written.
 */
async function writeNdjson(dir: string, owner: string, name: string, rows: AsyncIterable<AuditRow> | Iterable<AuditRow>, checkpoints: readonly AuditCheckpoint[]): Promise<string> {
  const file = await ArchiveFile.open(dir, owner);
  try {
    for await (const row of rows) await file.add(JSON.stringify(row));
    return await file.finish(name, checkpoints);
  } finally {
    await file.discard();
  }
}

/** One archive file being written: lines to a temporary name (a thousand at a time), then fsynced and renamed. */
class ArchiveFile {
  private lines: string[] = [];
  private done = false;

  private constructor(
    private readonly dir: string,
    private readonly temporary: string,
    private readonly handle: FileHandle,
  ) {}

  /** A new temporary file of `owner` (the writer archiving) in `dir`, named so that sweepArchiveLeftovers knows whose it is. */
  static async open(dir: string, owner: string): Promise<ArchiveFile> {
    await mkdir(dir, { recursive: true });
    const temporary = join(dir, `${temporaryOf(owner)}${randomUUID()}.partial`);
    writing.add(temporary);
    try {
      return new ArchiveFile(dir, temporary, await open(temporary, 'w', 0o640));
    } catch (err) {
      writing.delete(temporary);
      throw err;
    }
  }

  async add(line: string): Promise<void> {
    this.lines.push(line);
    if (this.lines.length >= 1000) await this.flush();
  }

  /** Ends the file with `checkpoints`, fsyncs it and gives it its name; answers its path. */
  async finish(name: string, checkpoints: readonly AuditCheckpoint[]): Promise<string> {
    for (const checkpoint of checkpoints) this.lines.push(JSON.stringify({ checkpoint }));
    await this.flush();
    await this.handle.sync();
    await this.handle.close();
    const path = join(this.dir, name);
    await rename(this.temporary, path);
    this.done = true;
    writing.delete(this.temporary);
    return path;
  }

  /** A file not finished is removed (nothing half-written is left under a segment's name, or at all). */
  async discard(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.handle.close().catch(() => undefined);
    await rm(this.temporary, { force: true });
    writing.delete(this.temporary);
  }

  private async flush(): Promise<void> {
    if (this.lines.length === 0) return;
    await this.handle.write(`${this.lines.join('\n')}\n`);
    this.lines = [];
  }
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

/**
 * An archive and the live store it was pruned from, as one log with each event once: what a verifier from genesis
 * reads. A pass exports a segment before it deletes it, so a pass that died between the two (a kill, a failed
 * delete), or a verify run while one is between them, finds events in both. `firstLinks` gives, per writer, the hash
 * its first live row links to: a writer's archived rows after that one (all of them, when it is genesis) are still
 * live, and are read there, once. Only the links are used, so nothing is held per event.
 */
export async function* archivedThenLive(archived: AsyncIterable<AuditRow>, firstLinks: ReadonlyMap<string, string>, live: AsyncIterable<AuditRow>): AsyncGenerator<AuditRow> {
  const caughtUp = new Set<string>();
  for await (const row of archived) {
    const first = firstLinks.get(row.writer);
    if (first === undefined) {
      yield row; // none of this writer's events is live any more
      continue;
    }
    if (first === GENESIS_HASH || caughtUp.has(row.writer)) continue; // still live: read there
    yield row;
    if (row.hash === first) caughtUp.add(row.writer);
  }
  yield* live;
}

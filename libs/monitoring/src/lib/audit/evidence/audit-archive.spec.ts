import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditCheckpoint } from './audit-checkpoint';
import { archivedThenLive, sweepArchiveLeftovers, writeArchives } from './audit-archive';
import { GENESIS_HASH } from './audit-hash';
import type { AuditRow } from './audit-row';

const row = (id: string, writer = 'svc'): AuditRow => ({ id, timestamp: '2026-01-01T00:00:00.000Z', service: 'svc', event_type: 'user_login', user_id: null, resource_id: null, action: 'login', details: '{}', success: 1, request_id: null, trace_id: null, writer, prev_hash: '0'.repeat(64), hash: '1'.repeat(64) });
const checkpoint = (sequence: number, head_id: string, writer = 'svc'): AuditCheckpoint => ({ service: 'svc', writer, sequence, head_id, head_hash: '1'.repeat(64), event_count: sequence, timestamp: '2026-01-01T00:00:00.000Z', prev_signature: null, signature: 'x' });

/**
 * What a process killed mid-archive leaves (a temporary file nothing ran to remove) is removed when the next pass starts
 * (sweepArchiveLeftovers): the writer's own at once, anyone's once untouched for an hour; a file this process is still
 * writing is kept. (That a pass with nothing to archive sweeps too: audit-checkpoints.spec.ts.)
 */
describe('archive files: the temporary files of a killed process', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'personai-archive-'));
    mkdirSync(dir, { recursive: true });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const hidden = () => readdirSync(dir).filter((f) => f.startsWith('.')).sort();

  it('removes its writer\'s leftover at once, another writer\'s once untouched for an hour, and keeps a fresh one of another writer', async () => {
    writeFileSync(join(dir, '.svc~dead.partial'), 'half a file\n');
    writeFileSync(join(dir, '.other~fresh.partial'), 'another writer, writing now\n');
    writeFileSync(join(dir, '.other~stale.partial'), 'another writer, dead an hour and more\n');
    const twoHoursAgo = (Date.now() - 7_200_000) / 1000;
    utimesSync(join(dir, '.other~stale.partial'), twoHoursAgo, twoHoursAgo);

    await sweepArchiveLeftovers(dir, 'svc');
    expect(hidden()).toEqual(['.other~fresh.partial']);
  });

  it('knows a replica\'s files by its writer id (safe-named), not by the service alone', async () => {
    writeFileSync(join(dir, '.svc_pod-1_ab~dead.partial'), 'half a partition\n');
    writeFileSync(join(dir, '.svc_pod-2_cd~fresh.partial'), 'another replica, writing now\n');
    await sweepArchiveLeftovers(dir, 'svc/pod-1/ab');
    expect(hidden()).toEqual(['.svc_pod-2_cd~fresh.partial']);
  });

  it('keeps a temporary file this process is still writing, though it is the same writer\'s', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    async function* slow() {
      yield row('a');
      await held;
      yield row('b');
    }
    const first = writeArchives(dir, [checkpoint(1, 'b')], slow());
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(hidden()).toHaveLength(1); // the first pass's file, being written
    await sweepArchiveLeftovers(dir, 'svc'); // a second pass starting meanwhile
    expect(hidden()).toHaveLength(1);
    release();
    expect(await first).toEqual([join(dir, 'svc__svc__0000000001.ndjson')]);
    expect(hidden()).toEqual([]);
    expect(readdirSync(dir).sort()).toEqual(['svc__svc__0000000001.ndjson']);
  });
});

/** Archive and live store read as one log: a segment archived but not yet deleted (a pass that died between) once. */
describe('archivedThenLive', () => {
  const chain = (writer: string, n: number) => Array.from({ length: n }, (_, i) => ({ ...row(`${writer}${i + 1}`, writer), hash: `${writer}-h${i + 1}`, prev_hash: i === 0 ? GENESIS_HASH : `${writer}-h${i}` }));
  async function* of(rows: AuditRow[]) {
    yield* rows;
  }
  const ids = async (rows: AsyncIterable<AuditRow>) => {
    const out: string[] = [];
    for await (const r of rows) out.push(r.id);
    return out;
  };

  it('reads each event once: a writer\'s archived rows after the one its first live row links to are read live', async () => {
    const a = chain('a', 10);
    const b = chain('b', 4);
    // a: archived 1-10, still live from 6 (the pass died after archiving, having deleted through 5);
    // b: archived 1-4, live from genesis (nothing deleted yet); c: archived only (all of it deleted).
    const c = chain('c', 2);
    const archived = [...a, ...b, ...c];
    const live = [...a.slice(5), ...b];
    const links = new Map([['a', 'a-h5'], ['b', GENESIS_HASH]]);
    expect(await ids(archivedThenLive(of(archived), links, of(live)))).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'c1', 'c2', 'a6', 'a7', 'a8', 'a9', 'a10', 'b1', 'b2', 'b3', 'b4']);
  });

  it('keeps every archived row when the first live row links to none of them (events missing in between: the verifier says so)', async () => {
    const a = chain('a', 6);
    expect(await ids(archivedThenLive(of(a.slice(0, 3)), new Map([['a', 'a-h4']]), of(a.slice(4))))).toEqual(['a1', 'a2', 'a3', 'a5', 'a6']);
  });
});

import type { KeyObject } from 'node:crypto';
import { AuditCheckpoint, checkpointsByWriter, checkpointSignatureValid } from './audit-checkpoint';
import { GENESIS_HASH, hashEvent } from './audit-hash';
import { AuditRow, toEvent } from './audit-row';

/**
 * What the verifier can find. Tampering (the log is not intact): `edited` (a row's content no longer
 * matches its hash), `inserted` (a row that is not part of its writer's chain), `deleted` (rows missing
 * before this one), `truncated` (a signed checkpoint covers more events than the store holds),
 * `rewritten` (the chain no longer ends where a signed checkpoint says it did: rows rewritten and rehashed),
 * `forged_checkpoint` (a checkpoint whose signature does not verify), `missing_checkpoint` (a gap in a
 * writer's checkpoint sequence). Not tampering: `unanchored` (events after the writer's last checkpoint:
 * not yet covered by a signature, so not yet provable either way). Also not tampering, in a collector's
 * verification only: `awaiting_events` (a checkpoint whose events have not arrived yet) and `unkeyed_checkpoint`
 * (a checkpoint of a service whose public key the collector was not given).
 */
export type AuditFindingKind = 'edited' | 'inserted' | 'deleted' | 'truncated' | 'rewritten' | 'forged_checkpoint' | 'missing_checkpoint' | 'unanchored' | 'awaiting_events' | 'unkeyed_checkpoint';

/** The finding kinds that are not tampering (see AuditFindingKind): a log with only these is intact. */
export const NOT_TAMPERING: ReadonlySet<string> = new Set<AuditFindingKind>(['unanchored', 'awaiting_events', 'unkeyed_checkpoint']);

export interface AuditFinding {
  kind: AuditFindingKind;
  writer: string;
  /** The row concerned (for `deleted`: the first row after the gap). */
  event_id?: string;
  checkpoint_sequence?: number;
  detail: string;
}

export interface AuditVerificationReport {
  intact: boolean;
  checked: number;
  /** The first row that breaks its chain, as before checkpoints (null when every chain links). */
  firstBrokenId: string | null;
  /** Per writer, the last event a valid signed checkpoint covers. */
  anchoredThrough: Record<string, { event_id: string | null; event_count: number; checkpoint_sequence: number }>;
  /** Events after their writer's last checkpoint. */
  unanchored: number;
  /** Per writer, the checkpoint its oldest events were pruned through by retention (its chain starts after it). */
  prunedThrough: Record<string, { checkpoint_sequence: number; event_count: number }>;
  findings: AuditFinding[];
}

export interface VerifyOptions {
  /**
   * The retention in force: a writer's chain may start after a signed checkpoint (its older segments were
   * pruned) only if that checkpoint is older than this cutoff (ISO time). Without it, a chain that does not
   * start at genesis is reported as deleted rows.
   */
  prunedBefore?: string;
}

interface WriterWalk {
  count: number;
  prevHash: string;
  prevPrevHash: string | null;
  lastId: string | null;
  /** Position (1-based) and hash of every row, by id: where each checkpoint's head must be. */
  positions: Map<string, { n: number; hash: string }>;
}

/**
 * Checks every row's hash and link, every checkpoint's signature and sequence, and that each checkpoint's
 * head is where and what it was when it was signed. `rows` in commit order (every writer interleaved);
 * without checkpoints (or a key) it checks the chains only, as before.
 */
export async function verifyAuditRows(
  rows: AsyncIterable<AuditRow> | Iterable<AuditRow>,
  checkpoints: readonly AuditCheckpoint[] = [],
  publicKey?: KeyObject,
  unreadableCheckpoints: readonly string[] = [],
  options: VerifyOptions = {},
): Promise<AuditVerificationReport> {
  const walks = new Map<string, WriterWalk>();
  const prunedThrough: AuditVerificationReport['prunedThrough'] = {};
  // Where a pruned chain may start: right after a validly signed checkpoint older than the retention cutoff.
  const pruneBases = new Map<string, AuditCheckpoint>();
  if (options.prunedBefore !== undefined && publicKey) {
    for (const cp of checkpoints) if (cp.head_id !== null && cp.timestamp < options.prunedBefore && checkpointSignatureValid(cp, publicKey)) pruneBases.set(`${cp.writer}\u0000${cp.head_hash}`, cp);
  }
  const findings: AuditFinding[] = [];
  let checked = 0;
  let firstBrokenId: string | null = null;
  const broken = (f: AuditFinding) => {
    findings.push(f);
    firstBrokenId ??= f.event_id ?? null;
  };

  for await (const row of rows) {
    checked += 1;
    let w = walks.get(row.writer);
    if (!w) {
      const base = row.prev_hash === GENESIS_HASH ? undefined : pruneBases.get(`${row.writer}\u0000${row.prev_hash}`);
      walks.set(row.writer, (w = { count: base?.event_count ?? 0, prevHash: base?.head_hash ?? GENESIS_HASH, prevPrevHash: null, lastId: null, positions: new Map() }));
      if (base) {
        prunedThrough[row.writer] = { checkpoint_sequence: base.sequence, event_count: base.event_count };
        w.positions.set(base.head_id as string, { n: base.event_count, hash: base.head_hash });
      }
    }
    const selfIntact = hashEvent({ ...toEvent(row), writer: row.writer }) === row.hash;
    if (!selfIntact) broken({ kind: 'edited', writer: row.writer, event_id: row.id, detail: 'its content does not match its hash' });
    else if (row.prev_hash !== w.prevHash) {
      if (w.prevPrevHash !== null && row.prev_hash === w.prevPrevHash && w.lastId) broken({ kind: 'inserted', writer: row.writer, event_id: w.lastId, detail: 'the row before this writer\'s next event is not part of its chain' });
      else broken({ kind: 'deleted', writer: row.writer, event_id: row.id, detail: 'one or more events of this writer before this one are missing' });
    }
    w.count += 1;
    w.prevPrevHash = w.prevHash;
    w.prevHash = row.hash;
    w.lastId = row.id;
    w.positions.set(row.id, { n: w.count, hash: row.hash });
  }

  for (const where of unreadableCheckpoints) findings.push({ kind: 'forged_checkpoint', writer: '?', detail: `${where} is not a checkpoint` });

  /** A writer with checkpoints and no stored row: retention may have pruned all of it, through its last checkpoint older than the cutoff. */
  const prunedWhole = (writer: string, list: AuditCheckpoint[]): WriterWalk | undefined => {
    const base = [...list].reverse().find((cp) => pruneBases.get(`${writer}\u0000${cp.head_hash}`) === cp);
    if (!base) return undefined;
    prunedThrough[writer] = { checkpoint_sequence: base.sequence, event_count: base.event_count };
    return { count: base.event_count, prevHash: base.head_hash, prevPrevHash: null, lastId: null, positions: new Map([[base.head_id as string, { n: base.event_count, hash: base.head_hash }]]) };
  };
  const anchoredThrough: AuditVerificationReport['anchoredThrough'] = {};
  let unanchored = 0;
  const byWriter = checkpointsByWriter(checkpoints);
  for (const [writer, list] of byWriter) {
    const w = walks.get(writer) ?? prunedWhole(writer, list) ?? { count: 0, prevHash: GENESIS_HASH, prevPrevHash: null, lastId: null, positions: new Map() };
    let expectedSequence = 1;
    let prevSignature: string | null = null;
    let lastGood: AuditCheckpoint | undefined;
    for (const cp of list) {
      if (publicKey && !checkpointSignatureValid(cp, publicKey)) {
        findings.push({ kind: 'forged_checkpoint', writer, checkpoint_sequence: cp.sequence, detail: 'its signature does not verify with the public key' });
        continue;
      }
      if (cp.sequence !== expectedSequence || cp.prev_signature !== prevSignature) {
        findings.push({ kind: 'missing_checkpoint', writer, checkpoint_sequence: cp.sequence, detail: cp.sequence > expectedSequence ? `checkpoints ${expectedSequence}-${cp.sequence - 1} are missing` : 'it does not follow the previous checkpoint' });
      }
      expectedSequence = cp.sequence + 1;
      prevSignature = cp.signature;
      if (cp.head_id === null || cp.event_count < (prunedThrough[writer]?.event_count ?? 0)) {
        lastGood = cp; // an empty chain, or a segment retention pruned (its events are in the archive, if kept)
        continue;
      }
      const at = w.positions.get(cp.head_id);
      if (at && at.hash === cp.head_hash && at.n === cp.event_count) lastGood = cp;
      else if (at && at.hash === cp.head_hash) lastGood = cp; // the head is intact; a shift before it is reported as deleted or inserted above
      else if (at) findings.push({ kind: 'rewritten', writer, event_id: cp.head_id, checkpoint_sequence: cp.sequence, detail: 'the event a signed checkpoint ends at has another hash now: the chain was rewritten and rehashed' });
      else if (w.count < cp.event_count) findings.push({ kind: 'truncated', writer, event_id: cp.head_id, checkpoint_sequence: cp.sequence, detail: `checkpoint ${cp.sequence} covers ${cp.event_count} events; the store holds ${w.count} of this writer, and not the event it ends at` });
      else findings.push({ kind: 'rewritten', writer, event_id: cp.head_id, checkpoint_sequence: cp.sequence, detail: 'the event a signed checkpoint ends at is gone while the chain is as long: the chain was rewritten' });
    }
    if (lastGood) {
      anchoredThrough[writer] = { event_id: lastGood.head_id, event_count: lastGood.event_count, checkpoint_sequence: lastGood.sequence };
      const after = w.count - (w.positions.get(lastGood.head_id ?? '')?.n ?? 0);
      if (after > 0) {
        unanchored += after;
        findings.push({ kind: 'unanchored', writer, event_id: w.lastId ?? undefined, detail: `${after} event(s) after checkpoint ${lastGood.sequence} are not covered by a signature yet` });
      }
    }
  }
  for (const [writer, w] of walks) {
    if (byWriter.has(writer) || w.count === 0) continue;
    unanchored += w.count;
    if (checkpoints.length > 0 || publicKey) findings.push({ kind: 'unanchored', writer, event_id: w.lastId ?? undefined, detail: `${w.count} event(s) of this writer and no checkpoint` });
  }
  const intact = findings.every((f) => NOT_TAMPERING.has(f.kind));
  return { intact, checked, firstBrokenId: intact ? null : firstBrokenId ?? findings.find((f) => f.event_id)?.event_id ?? null, anchoredThrough, unanchored, prunedThrough, findings };
}

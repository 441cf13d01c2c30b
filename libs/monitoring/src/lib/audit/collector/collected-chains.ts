import type { KeyObject } from 'node:crypto';
import { AuditCheckpoint, checkpointsByWriter, checkpointSignatureValid } from '../evidence/audit-checkpoint';
import { GENESIS_HASH, hashEvent } from '../evidence/audit-hash';
import { AuditRow, toEvent } from '../evidence/audit-row';
import { type AuditFinding, NOT_TAMPERING } from '../evidence/audit-verifier';
import type { AuditVerification, CollectedChain } from '../stores/audit-store.interface';

/** What is kept of a row while its writer's chain is walked: its place in the collector, its links. */
interface Link {
  id: string;
  order: number;
  prev: string;
  hash: string;
}

/** Where each reached event sits in its writer's chain (1-based from the start held), and how many were reached. */
interface Reached {
  readonly size: number;
  get(id: string): { n: number; hash: string } | undefined;
}

type Verified = AuditVerification & { writers: Record<string, CollectedChain> };

/**
 * Verifies the chains a collector holds. Every row must hash to its `hash`; every writer's rows must form one
 * unbroken chain, followed link by link from its start whatever order they arrived in (a message delivered again
 * after a collector's crash arrives after later ones). A chain starts at the genesis hash, or at an event the
 * collector never received (the writer's stream was turned on mid-chain, or the stream had dropped older
 * messages): that chain verifies from there on and is reported with `from_genesis: false`, not as tampering.
 * A row that is edited, that two rows claim as their predecessor (an insertion), or that cannot be reached from the
 * start (a row missing before it) breaks the chain; the first such row in the collector's order is named.
 *
 * With the writers' signed checkpoints (carried on the stream) and their services' public keys, each checkpoint
 * must verify (`forged_checkpoint`), follow the one before it from the first one held (`missing_checkpoint`), and end
 * where the chain held has the event it names with the hash it signed (`rewritten`: a chain rewritten and rehashed,
 * which its links alone cannot show). A checkpoint whose event has not arrived while the chain held is shorter is
 * `awaiting_events` (a redelivery can bring events after it), one of a service without a key `unkeyed_checkpoint`;
 * neither is tampering, and events after a writer's last checkpoint are `unanchored`, as in a service's own log.
 *
 * Memory: following links holds every row's id and hashes (about 280 bytes a row after reading them, more at the
 * peak), so a collector of a few hundred thousand events exhausted the images' heap (half of 256 MiB). Given `rows`
 * as a function that reads them again, the rows are first read once keeping only each writer's head (and, until
 * their predecessor arrives, rows a redelivery reordered): when every row hashes to its `hash` and every writer's
 * rows link into one chain from the first one read (the usual case), that pass is the answer, the one links give
 * (each chain starts at its first row and reaches every row). Otherwise the rows are read a second time and their
 * links followed.
 */
export async function verifyCollectedRows(
  rows: AsyncIterable<AuditRow> | (() => AsyncIterable<AuditRow>),
  checkpoints: readonly AuditCheckpoint[] = [],
  publicKeyOf: (service: string) => KeyObject | undefined = () => undefined,
): Promise<Verified> {
  if (typeof rows !== 'function') return verifyByLinks(rows, checkpoints, publicKeyOf);
  return (await verifyInOrder(rows(), checkpoints, publicKeyOf)) ?? verifyByLinks(rows(), checkpoints, publicKeyOf);
}

/** Rows verifyCollectedRows's first pass keeps aside until the row they link to arrives (a redelivery's reordering). */
const PARKED_LIMIT = 10_000;

/**
 * verifyCollectedRows's first pass, in memory that does not grow with the rows: each writer's head, and rows that
 * arrived before the row they link to, parked until it does (up to PARKED_LIMIT). Undefined as soon as a row does not
 * hash to its `hash`, two rows link to the same one, or too many wait; and at the end if any still waits (a row
 * missing, a chain started again, an event held from before the first one read): the links must then be followed.
 */
async function verifyInOrder(rows: AsyncIterable<AuditRow>, checkpoints: readonly AuditCheckpoint[], publicKeyOf: (service: string) => KeyObject | undefined): Promise<Verified | undefined> {
  // Only the events checkpoints end at are looked up by id.
  const named = new Set(checkpoints.map((cp) => cp.head_id).filter((id): id is string => id !== null));
  const heads = new Map<string, { service: string; fromGenesis: boolean; count: number; id: string; hash: string; named: Map<string, { n: number; hash: string }> }>();
  /** Per writer, rows waiting for their predecessor (their id and hash), by the hash they link to. */
  const parked = new Map<string, Map<string, { id: string; hash: string }>>();
  let waiting = 0;
  let checked = 0;
  for await (const row of rows) {
    checked += 1;
    if (hashEvent({ ...toEvent(row), writer: row.writer }) !== row.hash) return undefined;
    let head = heads.get(row.writer);
    if (!head) heads.set(row.writer, (head = { service: row.service, fromGenesis: row.prev_hash === GENESIS_HASH, count: 0, id: row.id, hash: row.prev_hash, named: new Map() }));
    if (row.prev_hash !== head.hash) {
      const aside = parked.get(row.writer) ?? new Map<string, { id: string; hash: string }>();
      parked.set(row.writer, aside);
      if (aside.has(row.prev_hash) || (waiting += 1) > PARKED_LIMIT) return undefined;
      aside.set(row.prev_hash, { id: row.id, hash: row.hash });
      continue;
    }
    // The row, then each parked row it lets follow.
    for (let next: { id: string; hash: string } | undefined = row; next; next = parked.get(row.writer)?.get(head.hash)) {
      if (next !== row) {
        parked.get(row.writer)?.delete(head.hash);
        waiting -= 1;
      }
      head.count += 1;
      head.id = next.id;
      head.hash = next.hash;
      if (named.has(next.id)) head.named.set(next.id, { n: head.count, hash: next.hash });
    }
  }
  if (waiting > 0) return undefined;
  const writers: Record<string, CollectedChain> = {};
  const positions = new Map<string, Reached>();
  for (const [writer, head] of heads) {
    writers[writer] = { service: head.service, events: head.count, from_genesis: head.fromGenesis, head_id: head.id };
    positions.set(writer, { size: head.count, get: (id) => head.named.get(id) });
  }
  return verdict(checked, writers, positions, undefined, checkpoints, publicKeyOf);
}

/** verifyCollectedRows by each writer's links, all rows held (see there). */
async function verifyByLinks(rows: AsyncIterable<AuditRow>, checkpoints: readonly AuditCheckpoint[], publicKeyOf: (service: string) => KeyObject | undefined): Promise<Verified> {
  const byWriter = new Map<string, { service: string; links: Link[] }>();
  const broken: Link[] = [];
  let checked = 0;
  for await (const row of rows) {
    const link = { id: row.id, order: checked, prev: row.prev_hash, hash: row.hash };
    checked += 1;
    if (hashEvent({ ...toEvent(row), writer: row.writer }) !== row.hash) broken.push(link);
    const chain = byWriter.get(row.writer) ?? { service: row.service, links: [] };
    chain.links.push(link);
    byWriter.set(row.writer, chain);
  }
  const writers: Record<string, CollectedChain> = {};
  /** Per writer, each event reached from its chain's start: its position (1-based from the start held) and hash. */
  const positions = new Map<string, Map<string, { n: number; hash: string }>>();
  for (const [writer, { service, links }] of byWriter) {
    const hashes = new Set(links.map((l) => l.hash));
    const next = new Map<string, Link>();
    for (const link of links) {
      if (next.has(link.prev)) broken.push(link); // a second successor: one of them was inserted
      else next.set(link.prev, link);
    }
    // The start: the link from genesis, else the one whose predecessor the collector does not hold.
    const start = next.get(GENESIS_HASH) ?? links.find((l) => !hashes.has(l.prev));
    const reached = new Set<string>();
    const at = new Map<string, { n: number; hash: string }>();
    let head = links[links.length - 1];
    for (let link = start; link && !reached.has(link.id); link = next.get(link.hash)) {
      reached.add(link.id);
      at.set(link.id, { n: reached.size, hash: link.hash });
      head = link;
    }
    positions.set(writer, at);
    broken.push(...links.filter((l) => !reached.has(l.id)));
    writers[writer] = { service, events: links.length, from_genesis: start?.prev === GENESIS_HASH, head_id: head.id };
  }
  const first = broken.sort((a, b) => a.order - b.order)[0];
  return verdict(checked, writers, positions, first?.id, checkpoints, publicKeyOf);
}

/** The answer from the chains as followed, the first row that broke one (its id), and the checkpoints. */
function verdict(checked: number, writers: Record<string, CollectedChain>, positions: Map<string, Reached>, firstBrokenId: string | undefined, checkpoints: readonly AuditCheckpoint[], publicKeyOf: (service: string) => KeyObject | undefined): Verified {
  const { anchoredThrough, unanchored, findings } = checkCheckpoints(writers, positions, checkpoints, publicKeyOf);
  const tampered = findings.filter((f) => !NOT_TAMPERING.has(f.kind));
  return {
    intact: firstBrokenId === undefined && tampered.length === 0,
    checked,
    firstBrokenId: firstBrokenId ?? tampered.find((f) => f.event_id)?.event_id ?? null,
    writers,
    ...(checkpoints.length > 0 ? { anchoredThrough, unanchored, findings } : {}),
  };
}

/** Each writer's checkpoints against its chain as held (see verifyCollectedRows). */
function checkCheckpoints(
  writers: Record<string, CollectedChain>,
  positions: Map<string, Reached>,
  checkpoints: readonly AuditCheckpoint[],
  publicKeyOf: (service: string) => KeyObject | undefined,
): Required<Pick<AuditVerification, 'anchoredThrough' | 'unanchored'>> & { findings: AuditFinding[] } {
  const findings: AuditFinding[] = [];
  const anchoredThrough: NonNullable<AuditVerification['anchoredThrough']> = {};
  let unanchored = 0;
  for (const [writer, list] of checkpointsByWriter(checkpoints)) {
    const chain = writers[writer];
    const at: Reached = positions.get(writer) ?? new Map<string, { n: number; hash: string }>();
    let previous: AuditCheckpoint | undefined;
    let lastGood: AuditCheckpoint | undefined;
    for (const cp of list) {
      const key = publicKeyOf(cp.service);
      if (!key) {
        findings.push({ kind: 'unkeyed_checkpoint', writer, checkpoint_sequence: cp.sequence, detail: `no public key for service ${cp.service}: its checkpoints are not checked` });
        continue;
      }
      if (!checkpointSignatureValid(cp, key)) {
        findings.push({ kind: 'forged_checkpoint', writer, checkpoint_sequence: cp.sequence, detail: `its signature does not verify with ${cp.service}'s public key` });
        continue;
      }
      if (previous && (cp.sequence !== previous.sequence + 1 || cp.prev_signature !== previous.signature)) {
        findings.push({ kind: 'missing_checkpoint', writer, checkpoint_sequence: cp.sequence, detail: cp.sequence > previous.sequence + 1 ? `checkpoints ${previous.sequence + 1}-${cp.sequence - 1} are missing` : 'it does not follow the previous checkpoint' });
      }
      previous = cp;
      if (cp.head_id === null) continue;
      const head = at.get(cp.head_id);
      const held = chain?.from_genesis ? at.size : undefined;
      if (head && head.hash === cp.head_hash) lastGood = cp;
      else if (head) findings.push({ kind: 'rewritten', writer, event_id: cp.head_id, checkpoint_sequence: cp.sequence, detail: 'the event this signed checkpoint ends at has another hash in the collector: the chain was rewritten and rehashed' });
      else if (held !== undefined && held >= cp.event_count) findings.push({ kind: 'rewritten', writer, event_id: cp.head_id, checkpoint_sequence: cp.sequence, detail: `the collector holds ${held} events of this writer from its start, but not the event checkpoint ${cp.sequence} ends at: the chain was rewritten` });
      else findings.push({ kind: 'awaiting_events', writer, event_id: cp.head_id, checkpoint_sequence: cp.sequence, detail: `checkpoint ${cp.sequence} ends at an event the collector has not received yet` });
    }
    if (lastGood?.head_id) {
      anchoredThrough[writer] = { event_id: lastGood.head_id, event_count: lastGood.event_count, checkpoint_sequence: lastGood.sequence };
      const after = at.size - (at.get(lastGood.head_id)?.n ?? 0);
      if (after > 0) {
        unanchored += after;
        findings.push({ kind: 'unanchored', writer, event_id: chain?.head_id, detail: `${after} event(s) after checkpoint ${lastGood.sequence} are not covered by a signature yet` });
      }
    }
  }
  return { anchoredThrough, unanchored, findings };
}

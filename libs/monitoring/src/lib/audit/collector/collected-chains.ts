import type { KeyObject } from 'node:crypto';
import { AuditCheckpoint, checkpointsByWriter, checkpointSignatureValid } from '../evidence/audit-checkpoint';
import { GENESIS_HASH, hashEvent } from '../evidence/audit-hash';
import { AuditRow, toEvent } from '../evidence/audit-row';
import { HASH, LinkIndex, PackedLinks, PREV } from './packed-links';
import { type AuditFinding, NOT_TAMPERING } from '../evidence/audit-verifier';
import type { AuditVerification, CollectedChain } from '../stores/audit-store.interface';

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
 * Memory: following links holds every row's id and hashes. As an object a row with its strings (about 280 bytes a
 * row in the heap, more at the peak), a collector of a few hundred thousand events exhausted the images' heap (half of
 * 256 MiB); they are now packed outside the heap (PackedLinks, about 100 bytes a row with the lookups). Given `rows`
 * as a function that reads them again, the rows are first read once following each writer's chain as it arrives
 * (followInOrder: its head, and rows a redelivery put after later ones until their predecessor arrives). A writer
 * whose rows all hash right and link up from the first one read has its answer then, the one links give (its chain
 * starts at its first row and reaches every row). Only if some writer's do not are the rows read a second time,
 * holding the packed links of those writers' rows alone (the same rows: as many as the first read counted).
 */
export async function verifyCollectedRows(
  rows: AsyncIterable<AuditRow> | (() => AsyncIterable<AuditRow>),
  checkpoints: readonly AuditCheckpoint[] = [],
  publicKeyOf: (service: string) => KeyObject | undefined = () => undefined,
): Promise<Verified> {
  // Only the events checkpoints end at are looked up by id.
  const named = new Set(checkpoints.map((cp) => cp.head_id).filter((id): id is string => id !== null));
  if (typeof rows !== 'function') {
    const linked = await followLinks(rows, Infinity, 'all', named);
    return verdict(linked.checked, linked.writers, linked.positions, linked.firstBroken?.id, checkpoints, publicKeyOf);
  }
  const read = await followInOrder(rows(), named);
  const tangled = new Map([...read.tangled].map((writer) => [writer, read.rowsOf.get(writer) ?? 0]));
  const linked = tangled.size > 0 ? await followLinks(rows(), read.checked, tangled, named) : undefined;
  const writers: Record<string, CollectedChain> = {};
  const positions = new Map<string, Reached>();
  for (const writer of read.writers) {
    const chain = read.chains.get(writer);
    writers[writer] = chain ? chain.summary : (linked?.writers[writer] as CollectedChain);
    // A chain followed in order reached every one of its events.
    positions.set(writer, chain ? { size: chain.summary.events, get: (id) => chain.named.get(id) } : (linked?.positions.get(writer) as Reached));
  }
  return verdict(read.checked, writers, positions, linked?.firstBroken?.id, checkpoints, publicKeyOf);
}

/** How many rows verifyCollectedRows's first read keeps aside, over all writers, until the row they link to arrives. */
const PARKED_LIMIT = 10_000;

/** A writer's chain as the first read followed it: the row it ends at, and where each event a checkpoint names sits. */
interface InOrderChain {
  summary: CollectedChain;
  hash: string;
  named: Map<string, { n: number; hash: string }>;
  /** Rows waiting for their predecessor (id and hash), by the hash they link to. */
  parked: Map<string, { id: string; hash: string }>;
}

/**
 * verifyCollectedRows's first read, in memory that does not grow with the rows: each writer's chain as it arrives,
 * from the first row read, keeping its head and the rows that arrived before the row they link to (parked until it
 * does, PARKED_LIMIT in all). A writer is `tangled`, and its rows are left to the links, at its first row that does
 * not hash to its `hash` or that links to the same row as one parked, when it holds the most parked rows and there are
 * too many, or at the end if a row of it still waits (a row missing, a chain started again, an event held from
 * before the first one read). Every other writer's chain reached each of its rows, from its first: its answer is the
 * one links give.
 */
async function followInOrder(rows: AsyncIterable<AuditRow>, named: ReadonlySet<string>): Promise<{ checked: number; writers: string[]; rowsOf: Map<string, number>; chains: Map<string, InOrderChain>; tangled: Set<string> }> {
  const writers: string[] = [];
  const chains = new Map<string, InOrderChain>();
  const tangled = new Set<string>();
  let waiting = 0;
  const tangle = (writer: string) => {
    waiting -= chains.get(writer)?.parked.size ?? 0;
    chains.delete(writer);
    tangled.add(writer);
  };
  // How many rows each writer has: a second read packs a tangled writer's links into buffers of that size.
  const rowsOf = new Map<string, number>();
  let checked = 0;
  for await (const row of rows) {
    checked += 1;
    rowsOf.set(row.writer, (rowsOf.get(row.writer) ?? 0) + 1);
    if (tangled.has(row.writer)) continue;
    let chain = chains.get(row.writer);
    if (!chain) {
      writers.push(row.writer);
      chain = { summary: { service: row.service, events: 0, from_genesis: row.prev_hash === GENESIS_HASH, head_id: row.id }, hash: row.prev_hash, named: new Map(), parked: new Map() };
      chains.set(row.writer, chain);
    }
    if (hashEvent({ ...toEvent(row), writer: row.writer }) !== row.hash) {
      tangle(row.writer);
      continue;
    }
    if (row.prev_hash !== chain.hash) {
      if (chain.parked.has(row.prev_hash)) tangle(row.writer);
      else {
        chain.parked.set(row.prev_hash, { id: row.id, hash: row.hash });
        waiting += 1;
        while (waiting > PARKED_LIMIT) tangle([...chains].reduce((a, b) => (b[1].parked.size > a[1].parked.size ? b : a))[0]);
      }
      continue;
    }
    // The row, then each parked row it lets follow.
    for (let next: { id: string; hash: string } | undefined = row; next; next = chain.parked.get(chain.hash)) {
      if (next !== row) {
        chain.parked.delete(chain.hash);
        waiting -= 1;
      }
      chain.summary.events += 1;
      chain.summary.head_id = next.id;
      chain.hash = next.hash;
      if (named.has(next.id)) chain.named.set(next.id, { n: chain.summary.events, hash: next.hash });
    }
  }
  for (const [writer, chain] of chains) if (chain.parked.size > 0) tangle(writer);
  return { checked, writers, rowsOf, chains, tangled };
}

/**
 * Each writer's chain by its links, the rows of the writers `follow` names held (the first `limit` rows read, in the
 * collector's order; see verifyCollectedRows; `follow` gives each writer's number of rows when they are known),
 * packed (PackedLinks: about 100 bytes a row, outside the heap): the chains, where each event a checkpoint names sits
 * if it was reached, and the first row in that order that broke one.
 */
async function followLinks(rows: AsyncIterable<AuditRow>, limit: number, follow: ReadonlyMap<string, number> | 'all', named: ReadonlySet<string>): Promise<{ checked: number; writers: Record<string, CollectedChain>; positions: Map<string, Reached>; firstBroken: { order: number; id: string } | undefined }> {
  const byWriter = new Map<string, { service: string; links: PackedLinks; named: Map<number, string> }>();
  let firstBroken: { order: number; id: string } | undefined;
  const broke = (order: number, id: string) => {
    if (!firstBroken || order < firstBroken.order) firstBroken = { order, id };
  };
  let checked = 0;
  for await (const row of rows) {
    if (checked >= limit) break;
    const order = checked;
    checked += 1;
    if (follow !== 'all' && !follow.has(row.writer)) continue;
    if (hashEvent({ ...toEvent(row), writer: row.writer }) !== row.hash) broke(order, row.id);
    let chain = byWriter.get(row.writer);
    if (!chain) {
      chain = { service: row.service, links: new PackedLinks(follow === 'all' ? undefined : follow.get(row.writer)), named: new Map() };
      byWriter.set(row.writer, chain);
    }
    const i = chain.links.push(row.id, order, row.prev_hash, row.hash);
    if (named.has(row.id)) chain.named.set(i, row.id);
  }
  const writers: Record<string, CollectedChain> = {};
  /** Per writer, each named event reached from its chain's start: its position (1-based from the start held) and hash. */
  const positions = new Map<string, Reached>();
  for (const [writer, { service, links, named: namedAt }] of byWriter) {
    // A second row linking to the same one (one of them was inserted) is not filed, so never reached: named below.
    const next = new LinkIndex(links, PREV);
    for (let i = 0; i < links.size; i += 1) next.add(i);
    // The start: the link from genesis, else the first one whose predecessor the collector does not hold.
    let start = next.find(links.pack(GENESIS_HASH), 0);
    if (start === -1) {
      const byHash = new LinkIndex(links, HASH);
      for (let i = 0; i < links.size; i += 1) byHash.add(i);
      for (let i = 0; start === -1 && i < links.size; i += 1) if (byHash.find(links.values, links.offset(i, PREV)) === -1) start = i;
    }
    const reached = new Uint8Array(links.size);
    const at = new Map<string, { n: number; hash: string }>();
    let count = 0;
    let head = links.size - 1;
    for (let link = start; link !== -1 && !reached[link]; link = next.find(links.values, links.offset(link, HASH))) {
      reached[link] = 1;
      count += 1;
      head = link;
      const id = namedAt.get(link);
      if (id !== undefined) at.set(id, { n: count, hash: links.hashOf(link) });
    }
    for (let i = 0; i < links.size; i += 1) if (!reached[i]) broke(links.orderOf(i), links.idOf(i));
    positions.set(writer, { size: count, get: (id) => at.get(id) });
    writers[writer] = { service, events: links.size, from_genesis: start !== -1 && links.prevOf(start) === GENESIS_HASH, head_id: links.idOf(head) };
  }
  return { checked, writers, positions, firstBroken };
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

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
 */
export async function verifyCollectedRows(
  rows: AsyncIterable<AuditRow>,
  checkpoints: readonly AuditCheckpoint[] = [],
  publicKeyOf: (service: string) => KeyObject | undefined = () => undefined,
): Promise<AuditVerification & { writers: Record<string, CollectedChain> }> {
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
  const { anchoredThrough, unanchored, findings } = checkCheckpoints(writers, positions, checkpoints, publicKeyOf);
  const tampered = findings.filter((f) => !NOT_TAMPERING.has(f.kind));
  return {
    intact: first === undefined && tampered.length === 0,
    checked,
    firstBrokenId: first?.id ?? tampered.find((f) => f.event_id)?.event_id ?? null,
    writers,
    ...(checkpoints.length > 0 ? { anchoredThrough, unanchored, findings } : {}),
  };
}

/** Each writer's checkpoints against its chain as held (see verifyCollectedRows). */
function checkCheckpoints(
  writers: Record<string, CollectedChain>,
  positions: Map<string, Map<string, { n: number; hash: string }>>,
  checkpoints: readonly AuditCheckpoint[],
  publicKeyOf: (service: string) => KeyObject | undefined,
): Required<Pick<AuditVerification, 'anchoredThrough' | 'unanchored'>> & { findings: AuditFinding[] } {
  const findings: AuditFinding[] = [];
  const anchoredThrough: NonNullable<AuditVerification['anchoredThrough']> = {};
  let unanchored = 0;
  for (const [writer, list] of checkpointsByWriter(checkpoints)) {
    const chain = writers[writer];
    const at = positions.get(writer) ?? new Map<string, { n: number; hash: string }>();
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

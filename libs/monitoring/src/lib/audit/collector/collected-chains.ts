import { GENESIS_HASH, hashEvent } from '../evidence/audit-hash';
import { AuditRow, toEvent } from '../evidence/audit-row';
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
 */
export async function verifyCollectedRows(rows: AsyncIterable<AuditRow>): Promise<AuditVerification & { writers: Record<string, CollectedChain> }> {
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
    let head = links[links.length - 1];
    for (let link = start; link && !reached.has(link.id); link = next.get(link.hash)) {
      reached.add(link.id);
      head = link;
    }
    broken.push(...links.filter((l) => !reached.has(l.id)));
    writers[writer] = { service, events: links.length, from_genesis: start?.prev === GENESIS_HASH, head_id: head.id };
  }
  const first = broken.sort((a, b) => a.order - b.order)[0];
  return { intact: first === undefined, checked, firstBrokenId: first?.id ?? null, writers };
}

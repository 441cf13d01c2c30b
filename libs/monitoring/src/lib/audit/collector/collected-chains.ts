import { GENESIS_HASH, hashEvent } from '../evidence/audit-hash';
import { AuditRow, toEvent } from '../evidence/audit-row';
import type { AuditVerification, CollectedChain } from '../stores/audit-store.interface';

/**
 * Verifies the chains a collector holds: the rows of every writer, in the order the collector stored them
 * (the stream's order, which is each writer's commit order), must each hash to their `hash` and link to the
 * writer's previous row. A writer's first row held may link to the genesis hash or to an event the collector
 * never received (its stream was turned on mid-chain, or the stream had dropped older messages): that chain
 * verifies from there on and is reported with `from_genesis: false`, never as tampering. Anything else (an
 * edited row, a row missing between two held ones, one out of its writer's order) is broken at that row.
 */
export async function verifyCollectedRows(rows: AsyncIterable<AuditRow>): Promise<AuditVerification & { writers: Record<string, CollectedChain> }> {
  const writers: Record<string, CollectedChain & { last: string }> = {};
  let checked = 0;
  let firstBrokenId: string | null = null;
  for await (const row of rows) {
    checked += 1;
    const chain = writers[row.writer];
    const linked = chain ? row.prev_hash === chain.last : true;
    const hashed = hashEvent({ ...toEvent(row), writer: row.writer }) === row.hash;
    if (!(linked && hashed) && firstBrokenId === null) firstBrokenId = row.id;
    if (chain) Object.assign(chain, { events: chain.events + 1, head_id: row.id, last: row.hash });
    else writers[row.writer] = { service: row.service, events: 1, from_genesis: row.prev_hash === GENESIS_HASH, head_id: row.id, last: row.hash };
  }
  const summary = Object.fromEntries(Object.entries(writers).map(([writer, { last: _last, ...chain }]) => [writer, chain]));
  return { intact: firstBrokenId === null, checked, firstBrokenId, writers: summary };
}

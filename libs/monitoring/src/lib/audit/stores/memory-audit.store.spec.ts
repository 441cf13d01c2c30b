import { describeAuditStoreContract } from '../../testing/audit-store-contract';
import { MemoryAuditBackend } from '../../testing/memory-audit.backend';
import { ChainedAuditStore } from './chained-audit.store';

// A new backend needs only insert, head and range: the chain, group commit, verification and (without a
// native query) filtering come from ChainedAuditStore, and the same contract holds.
describeAuditStoreContract('in-memory (ChainedAuditStore over the smallest backend)', async () => {
  const backend = new MemoryAuditBackend();
  const service = 'spec';
  return {
    service,
    open: () => new ChainedAuditStore(backend, service),
    async tamper(kind, id) {
      const index = backend.rows.findIndex((r) => r.id === id);
      if (kind === 'update-user') backend.rows[index].user_id = 'mallory';
      if (kind === 'update-details') backend.rows[index].details = '{"i":999}';
      if (kind === 'delete') backend.rows.splice(index, 1);
    },
  };
});

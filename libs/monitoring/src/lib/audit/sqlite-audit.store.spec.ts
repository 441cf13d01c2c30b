import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeAuditStoreContract } from '../testing/audit-store-contract';
import { SqliteAuditStore } from './sqlite-audit.store';

const TAMPER = {
  'update-user': "UPDATE audit_events SET user_id = 'mallory' WHERE id = ?",
  'update-details': `UPDATE audit_events SET details = '{"i":999}' WHERE id = ?`,
  delete: 'DELETE FROM audit_events WHERE id = ?',
};

describeAuditStoreContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'audit-sqlite-'));
  const path = join(dir, 'nested', 'audit.db');
  const service = 'spec';
  let store = new SqliteAuditStore(path, service);
  return {
    service,
    get store() {
      return store;
    },
    async reopen() {
      await store.close();
      store = new SqliteAuditStore(path, service);
      return store;
    },
    async tamper(kind, id) {
      const db = new Database(path);
      db.prepare(TAMPER[kind]).run(id);
      db.close();
    },
    async cleanup() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { describeAuditStoreContract } from '../../testing/audit-store-contract';
import { auditServiceTable, PostgresAuditStore } from './postgres-audit.store';

/** The real PostgreSQL server of the machine (trust auth, database `test`); never a mock. */
const URL = process.env['PG_TEST_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

const TAMPER = {
  'update-user': "UPDATE audit_events SET user_id = 'mallory' WHERE id = $1",
  'update-details': `UPDATE audit_events SET details = '{"i":999}' WHERE id = $1`,
  delete: 'DELETE FROM audit_events WHERE id = $1',
};

async function sql(text: string, params: unknown[]): Promise<void> {
  const client = new Client({ connectionString: URL });
  await client.connect();
  try {
    await client.query(text, params);
  } finally {
    await client.end();
  }
}

describeAuditStoreContract('PostgreSQL', async () => {
  // Each run writes under its own service name, the store's isolation key, so runs never see each other.
  const service = `spec_${randomUUID().slice(0, 8)}`;
  return {
    service,
    open: () => new PostgresAuditStore(URL, service),
    tamper: (kind, id) => sql(TAMPER[kind], [id]),
    cleanup: () => sql(`DROP TABLE IF EXISTS ${auditServiceTable(service)}`, []),
  };
});

describe('PostgresAuditStore with several writers', () => {
  it('keeps one chain per replica in a shared table, and verifies them all', async () => {
    const service = `spec_${randomUUID().slice(0, 8)}`;
    const replicas = [new PostgresAuditStore(URL, service), new PostgresAuditStore(URL, service), new PostgresAuditStore(URL, service)];
    try {
      await Promise.all(replicas.flatMap((r, k) => Array.from({ length: 50 }, (_, i) => r.append({ timestamp: new Date().toISOString(), service, event_type: 'brief_created', user_id: `u${k}`, resource_id: `r${i}`, action: 'create', details: {}, success: true, request_id: null }))));
      expect((await replicas[0].query({}, 1)).total).toBe(150);
      expect(await replicas[1].verify()).toEqual({ intact: true, checked: 150, firstBrokenId: null });
    } finally {
      await Promise.all(replicas.map((r) => r.close()));
      await sql(`DROP TABLE IF EXISTS ${auditServiceTable(service)}`, []);
    }
  });

  it('reports itself down while the server is unreachable, without crashing', async () => {
    const store = new PostgresAuditStore('postgres://postgres@127.0.0.1:1/test', 'spec_down');
    try {
      await expect(store.ping()).rejects.toThrow();
      await expect(store.append({ timestamp: new Date().toISOString(), service: 'spec_down', event_type: 'user_login', user_id: null, resource_id: null, action: 'login', details: {}, success: true, request_id: null })).rejects.toThrow();
    } finally {
      await store.close();
    }
  });
});

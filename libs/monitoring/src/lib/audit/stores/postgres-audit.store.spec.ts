import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { describeAuditStoreContract } from '../../testing/audit-store-contract';
import { auditServiceTable, PostgresAuditBackend, PostgresAuditStore } from './postgres-audit.store';

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

  it('writes its heartbeat row, and at its first use removes the rows of writers silent for a week (one per pod ever, before)', async () => {
    const gone = `spec_gone_${randomUUID().slice(0, 8)}`;
    const quiet = `spec_quiet_${randomUUID().slice(0, 8)}`;
    const rows = async () => {
      const client = new Client({ connectionString: URL });
      await client.connect();
      try {
        return (await client.query<{ writer: string }>('SELECT writer FROM monitoring_heartbeat WHERE writer = ANY($1) ORDER BY writer', [[gone, quiet]])).rows.map((r) => r.writer);
      } finally {
        await client.end();
      }
    };
    await sql('CREATE TABLE IF NOT EXISTS monitoring_heartbeat (writer TEXT PRIMARY KEY, at TIMESTAMPTZ NOT NULL)', []);
    await sql(`INSERT INTO monitoring_heartbeat (writer, at) VALUES ($1, now() - interval '8 days'), ($2, now() - interval '6 days')`, [gone, quiet]);
    expect(await rows()).toEqual([gone, quiet].sort());
    const store = new PostgresAuditStore(URL, `spec_${randomUUID().slice(0, 8)}`);
    try {
      await store.ping();
      expect(await rows()).toEqual([quiet]);
    } finally {
      await store.close();
      await sql('DELETE FROM monitoring_heartbeat WHERE writer = $1', [quiet]);
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

describe('the PostgreSQL audit outbox, shared by replicas', () => {
  const event = (i: number) => ({ timestamp: new Date().toISOString(), service: 'x', event_type: 'brief_created' as const, action: 'create', success: true, user_id: `u${i}`, resource_id: null, request_id: null, details: { i } });

  it('queues each event with its insert, hands them out in commit order to one relay at a time, and removes only what was published', async () => {
    const service = `spec_${randomUUID().slice(0, 8)}`;
    const replicas = [new PostgresAuditStore(URL, service), new PostgresAuditStore(URL, service)];
    const [a, b] = replicas.map((r) => {
      const outbox = r.outbox();
      if (!outbox) throw new Error('the PostgreSQL store has an outbox');
      return outbox;
    });
    try {
      await replicas[0].append({ ...event(0), service }); // before the outbox is on: never queued
      await a.enable(true);
      await b.enable(true);
      for (let round = 0; round < 10; round += 1) await Promise.all(replicas.map((r, i) => r.append({ ...event(round * 2 + i + 1), service })));
      const ids = (await replicas[1].after(null, 100)).map((e) => e.id); // both writers' events, in commit order
      expect(ids).toHaveLength(21);
      expect(await a.stats()).toEqual({ pending: 20, oldestAt: expect.any(String) });

      // A publish that fails removes nothing.
      await expect(a.take(5, async () => Promise.reject(new Error('no responders')))).rejects.toThrow('no responders');
      expect((await b.stats()).pending).toBe(20);

      // While replica a's relay holds the queue (its publish not yet acknowledged), replica b's takes nothing.
      const published: string[] = [];
      let release = (): void => undefined;
      const held = a.take(8, async (rows) => {
        published.push(...rows.map((r) => r.id));
        await new Promise<void>((resolve) => (release = resolve));
      });
      await new Promise((r) => setTimeout(r, 200));
      expect(await b.take(8, async (rows) => void published.push(...rows.map((r) => r.id)))).toBe(0);
      release();
      expect(await held).toBe(8);
      while ((await b.take(8, async (rows) => void published.push(...rows.map((r) => r.id)))) > 0);
      expect(published).toEqual(ids.slice(1)); // commit order across both writers, each once, the first (unqueued) event not among them
      expect(await a.stats()).toEqual({ pending: 0, oldestAt: null });

      // Retention dropping a partition takes its events' queue entries with it (none left counting as lag).
      await replicas[0].append({ ...event(99), service });
      expect((await a.stats()).pending).toBe(1);
      const backend = new PostgresAuditBackend(URL, service);
      try {
        const [partition] = await backend.partitions(new Date(Date.now() + 3 * 86_400_000).toISOString());
        await backend.dropPartitions([partition.name]);
      } finally {
        await backend.close();
      }
      expect(await a.stats()).toEqual({ pending: 0, oldestAt: null });
    } finally {
      await Promise.all(replicas.map((r) => r.close()));
      await sql(`DROP TABLE IF EXISTS ${auditServiceTable(service)}`, []);
      await sql('DELETE FROM audit_outbox WHERE service = $1', [service]);
    }
  });
});

import type { AuditVerifyResponse } from '@personai/contracts';
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { type SignedCheckpoint, signedChain, type StoredRow } from './support/audit-hash';
import { verifyOfflineStore } from './support/audit-cli';
import { eventually, getJson } from './support/http';
import { archivedIds, archiveFiles, killWhen, partials, retentionSetup } from './support/retention';
import { ServiceProcess } from './support/service-process';
import { freePort } from './support/stack';
import { targets } from './support/targets';

const { local, fakeUpstreams } = targets();
// It starts, kills and restarts its own service from this checkout's build: not against remote targets.
const describeLocal = local ? describe : describe.skip;

const PG_URL = process.env['PG_TEST_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
/** Ten day-long partitions of 10,000 events each, in January: a retention pass archives then drops each in turn. */
const DAYS = 10;
const PER_DAY = 10_000;
const EVENTS = DAYS * PER_DAY;
const CHECKPOINT_EVERY = 1000;
const DAY_MS = 86_400_000;
const JANUARY = Date.UTC(2026, 0, 1);

/** The table of a service's partitions, named as the PostgreSQL store names it (postgres-audit.store.ts). */
const serviceTable = (service: string) => `audit_events_${service.toLowerCase().replace(/[^a-z0-9]/g, '_').slice(0, 24)}_${createHash('sha256').update(service).digest('hex').slice(0, 8)}`;
const stamp = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
const safeName = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_');

/**
 * The retention pass on a real PostgreSQL store, killed -9 at its worst moments: while it writes a partition's archive
 * (a partition file finished, the next half-written) and later while it archives and drops partitions. A pass exports
 * each partition, then drops it whole. What must hold after each kill, counted in the database and the archive: no
 * event lost (every event is live or in a whole archive file, none archived twice), no file under a partition's name
 * half-written, a partition dropped only once its file is there, and the offline verifier finds archive plus live
 * store intact from genesis. The events are those of a writer of months ago (another pod), written as the store
 * writes them, with a signed checkpoint every 1,000 events (in the database and the anchor directory).
 */
describeLocal('content-engine: a retention pass killed -9 mid-way loses nothing (PostgreSQL)', () => {
  const service = `pg-retention-${randomUUID().slice(0, 8)}`;
  const writer = `${service}/old-pod/dead0001`;
  const table = serviceTable(service);
  let dataDir: string;
  let archiveDir: string;
  let proc: ServiceProcess;
  let pg: Client;
  const seeded: string[] = [];
  const liveIds = async () => new Set((await pg.query<{ id: string }>('SELECT id FROM audit_events WHERE service = $1 AND writer = $2', [service, writer])).rows.map((r) => r.id));
  const offline = (...extra: string[]) => verifyOfflineStore(PG_URL, join(dataDir, service, 'checkpoints'), join(dataDir, 'public-key.pem'), '--service', service, ...extra);

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'personai-retention-crash-pg-'));
    archiveDir = join(dataDir, 'archive');
    const { privateKey, env: retention } = retentionSetup(dataDir, archiveDir);
    proc = new ServiceProcess('content-engine', await freePort(), {
      SERVICE_NAME: service,
      DATA_DIR: dataDir,
      AUDIT_DATABASE_URL: PG_URL,
      OPENAI_API_URL: `${fakeUpstreams}/openai`,
      ...retention,
    });
    // Started once so that it migrates the schema and records its partition interval (a day), then stopped.
    await proc.start();
    await proc.kill('SIGTERM');
    pg = new Client({ connectionString: PG_URL });
    await pg.connect();
    expect((await pg.query('SELECT interval_ms FROM audit_partitioning WHERE service = $1', [service])).rows).toEqual([{ interval_ms: String(DAY_MS) }]);
    // The partitions as the store makes them, then the writer's events and checkpoints, day by day.
    await pg.query(`CREATE TABLE "${table}" PARTITION OF audit_events FOR VALUES IN ('${service}') PARTITION BY RANGE (period)`);
    const anchor: SignedCheckpoint[] = [];
    // An event every 8.64 s: PER_DAY of them fill a day.
    const chain = signedChain({ service, writer, count: EVENTS, checkpointEvery: CHECKPOINT_EVERY, privateKey, timestampOf: (i) => new Date(JANUARY + ((i - 1) * DAY_MS) / PER_DAY).toISOString() });
    for (let day = 0; day < DAYS; day += 1) {
      const start = JANUARY + day * DAY_MS;
      await pg.query(`CREATE TABLE "${table}_${stamp(start)}" PARTITION OF "${table}" FOR VALUES FROM ('${new Date(start).toISOString()}') TO ('${new Date(start + DAY_MS).toISOString()}')`);
      for (let batch = 0; batch < PER_DAY / 1000; batch += 1) {
        const values: unknown[] = [];
        const tuples: string[] = [];
        for (let j = 0; j < 1000; j += 1) {
          const { row, checkpoint } = chain.next().value as { row: StoredRow; checkpoint?: SignedCheckpoint };
          seeded.push(row.id);
          if (checkpoint) anchor.push(checkpoint);
          const cells = [row.id, row.timestamp, service, row.event_type, row.user_id, row.resource_id, row.action, row.details, true, row.request_id, null, writer, row.prev_hash, row.hash, new Date(start)];
          tuples.push(`(${cells.map((c) => `$${values.push(c)}`).join(', ')})`);
        }
        await pg.query(`INSERT INTO audit_events (id, timestamp, service, event_type, user_id, resource_id, action, details, success, request_id, trace_id, writer, prev_hash, hash, period) VALUES ${tuples.join(', ')}`, values);
      }
    }
    for (const checkpoint of anchor) await pg.query('INSERT INTO audit_checkpoints (service, writer, sequence, body) VALUES ($1, $2, $3, $4)', [service, writer, checkpoint.sequence, JSON.stringify(checkpoint)]);
    mkdirSync(join(dataDir, service, 'checkpoints'), { recursive: true });
    mkdirSync(archiveDir);
    writeFileSync(join(dataDir, service, 'checkpoints', `${safeName(service)}__${safeName(writer)}.ndjson`), `${anchor.map((c) => JSON.stringify(c)).join('\n')}\n`);
    expect((await liveIds()).size).toBe(EVENTS);
  }, 120_000);

  afterAll(async () => {
    await proc?.kill();
    if (pg) {
      await pg.query(`DROP TABLE IF EXISTS "${table}" CASCADE`);
      for (const t of ['audit_checkpoints', 'audit_partitioning', 'audit_outbox']) await pg.query(`DELETE FROM ${t} WHERE service = $1`, [service]);
      await pg.end();
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  /**
   * What must hold after a kill: every archive file whole (a day's events, ending with the checkpoint of its last),
   * none archived twice, every event live or archived, whole days dropped only (live events a multiple of a day's),
   * and archive plus live store intact from genesis, each event once, for the offline verifier. Answers the live count.
   */
  async function nothingLost(): Promise<number> {
    const archived = archivedIds(archiveDir, PER_DAY);
    const archivedOnce = new Set(archived);
    expect(archivedOnce.size).toBe(archived.length);
    const live = await liveIds();
    const missing = seeded.filter((id) => !live.has(id) && !archivedOnce.has(id));
    expect({ missing: missing.length }).toEqual({ missing: 0 });
    expect(live.size % PER_DAY).toBe(0);
    const whole = offline('--archive', archiveDir);
    expect(whole.out).toMatch(new RegExp(`^${service}: INTACT; ${EVENTS} events checked`));
    expect(whole.code).toBe(0);
    return live.size;
  }

  it('killed while it writes a partition\'s archive, then while it archives and drops: nothing lost, no file half-written, intact from genesis; the third run drops every old partition', async () => {
    // 1. A partition's file finished, the next one half-written.
    await killWhen(proc, 'a partition file finished and the next half-written', () => archiveFiles(archiveDir).length >= 1 && partials(archiveDir).some((size) => size > 0));
    expect(partials(archiveDir)).toEqual([expect.any(Number)]);
    const afterFirst = await nothingLost();
    expect(afterFirst).toBeGreaterThan(0);
    // Dropped only once archived: every dropped day has its file (a day's file may be written and its drop not yet run).
    expect(archiveFiles(archiveDir).length).toBeGreaterThanOrEqual(DAYS - afterFirst / PER_DAY);

    // 2. Later in a pass: at least four more days dropped since.
    await killWhen(proc, 'four more partitions dropped', async () => (await liveIds()).size <= afterFirst - 4 * PER_DAY);
    const afterSecond = await nothingLost();
    // The first kill's half-written file was removed by the next pass: the writer (service/host:port) is the same
    // after a restart, and no process was writing it. What is left is at most the second kill's own.
    expect(partials(archiveDir).length).toBeLessThanOrEqual(1);
    expect(afterSecond).toBeLessThanOrEqual(afterFirst - 4 * PER_DAY);
    expect(archiveFiles(archiveDir).length).toBeGreaterThanOrEqual(DAYS - afterSecond / PER_DAY);
    // The live chain on its own verifies from the signed checkpoint its first live event follows.
    if (afterSecond > 0) {
      const liveOnly = offline('--retention', '30d');
      expect(liveOnly.out).toMatch(new RegExp(`^${service}: INTACT; ${afterSecond} events checked`));
      expect(liveOnly.out).toContain(`pruned through checkpoint ${(EVENTS - afterSecond) / CHECKPOINT_EVERY} (${EVENTS - afterSecond} events)`);
      expect(liveOnly.code).toBe(0);
    }

    // 3. Restarted, its pass drops the rest.
    await proc.start();
    await eventually('the third run\'s pass to drop every old partition', async () => ((await liveIds()).size === 0 ? true : undefined), 60_000);
    const end = (await getJson<AuditVerifyResponse>(`${proc.url}/audit/verify`)).body;
    expect(end.intact).toBe(true);
    const ids = archivedIds(archiveDir, PER_DAY);
    expect(ids.sort()).toEqual([...seeded].sort());
    expect(archiveFiles(archiveDir)).toHaveLength(DAYS);
    expect(partials(archiveDir)).toEqual([]);
    // No January partition is left (the service's own, of today and tomorrow, are).
    const left = (await pg.query<{ name: string }>('SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass($1)', [`"${table}"`])).rows.map((r) => r.name);
    expect(left.filter((name) => name.includes('_202601'))).toEqual([]);
    await proc.kill('SIGTERM'); // the offline verifier reads a store no service writes to
    // Archive plus live store: every event once, from genesis; the live ones are the service's own since (each pass
    // that prunes audits it).
    const own = (await pg.query<{ event_type: string }>('SELECT event_type FROM audit_events WHERE service = $1', [service])).rows.map((r) => r.event_type);
    expect(own.length).toBeGreaterThan(0);
    const whole = offline('--archive', archiveDir);
    expect(whole.out).toMatch(new RegExp(`^${service}: INTACT; ${EVENTS + own.length} events checked`));
    expect(whole.code).toBe(0);
  }, 300_000);
});

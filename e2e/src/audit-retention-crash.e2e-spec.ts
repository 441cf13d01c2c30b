import type { AuditVerifyResponse } from '@personai/contracts';
import Database from 'better-sqlite3';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signedChain } from './support/audit-hash';
import { eventually, getJson } from './support/http';
import { archivedIds, archiveFiles, killWhen, partials, retentionSetup } from './support/retention';
import { ServiceProcess } from './support/service-process';
import { verifyOffline } from './support/audit-cli';
import { freePort } from './support/stack';
import { targets } from './support/targets';

const { local, fakeUpstreams } = targets();
// It starts, kills and restarts its own service from this checkout's build: not against remote targets.
const describeLocal = local ? describe : describe.skip;

const SERVICE = 'content-engine';
/** Old events: a retention pass takes them all, in steps of about 5,000 (20 steps), each archived first. */
const EVENTS = 100_000;
const CHECKPOINT_EVERY = 1000;

/**
 * The retention pass, killed -9 at its two worst moments on a real SQLite file: while it writes the archive (nothing
 * deleted yet, some files written, one half-written), and while it deletes (some steps committed, one perhaps in
 * flight). After each kill the service restarts and its next pass goes on. What must hold, counted in the file and
 * the archive: the live chain verifies at every stage; no event is lost (archive plus live hold every event, from
 * genesis, each once); no archive file under a segment's name is half-written; the pruned events are all gone in the
 * end. The store is filled as the service would have written it over a year: events and signed checkpoints (in the
 * anchor directory and the database) dated months ago, so one pass takes them all.
 */
describeLocal('content-engine: a retention pass killed -9 mid-way loses nothing (SQLite)', () => {
  let dataDir: string;
  let db: string;
  let archiveDir: string;
  let service: ServiceProcess;
  let reader: Database.Database;
  const liveOld = () => (reader.prepare(`SELECT count(*) AS n FROM audit_events WHERE timestamp < '2026-06-01'`).get() as { n: number }).n;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'personai-retention-crash-'));
    archiveDir = join(dataDir, 'archive');
    db = join(dataDir, SERVICE, 'audit.db');
    const { privateKey, env: retention } = retentionSetup(dataDir, archiveDir);
    service = new ServiceProcess(SERVICE, await freePort(), {
      DATA_DIR: dataDir,
      OPENAI_API_URL: `${fakeUpstreams}/openai`,
      ...retention,
    });
    // Started once so that it creates its store (and writes nothing to the chain), then stopped.
    await service.start();
    await service.kill('SIGTERM');
    const fill = new Database(db);
    expect(fill.prepare('SELECT count(*) AS n FROM audit_events').get()).toEqual({ n: 0 });
    const insert = fill.prepare(`INSERT INTO audit_events (id, timestamp, service, event_type, user_id, resource_id, action, details, success, request_id, trace_id, writer, prev_hash, hash)
      VALUES (@id, @timestamp, @service, @event_type, @user_id, @resource_id, @action, @details, @success, @request_id, @trace_id, @writer, @prev_hash, @hash)`);
    const insertCheckpoint = fill.prepare('INSERT INTO audit_checkpoints (writer, sequence, body) VALUES (?, ?, ?)');
    const anchor: string[] = [];
    const chain = signedChain({ service: SERVICE, writer: SERVICE, count: EVENTS, checkpointEvery: CHECKPOINT_EVERY, privateKey, timestampOf: (i) => new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString() });
    fill.transaction(() => {
      for (const { row, checkpoint } of chain) {
        insert.run(row);
        if (!checkpoint) continue;
        insertCheckpoint.run(SERVICE, checkpoint.sequence, JSON.stringify(checkpoint));
        anchor.push(JSON.stringify(checkpoint));
      }
    })();
    fill.close();
    mkdirSync(join(dataDir, SERVICE, 'checkpoints'), { recursive: true });
    mkdirSync(archiveDir);
    writeFileSync(join(dataDir, SERVICE, 'checkpoints', `${SERVICE}__${SERVICE}.ndjson`), `${anchor.join('\n')}\n`);
    reader = new Database(db, { readonly: true });
    expect(liveOld()).toBe(EVENTS);
  }, 120_000);

  afterAll(async () => {
    reader?.close();
    await service?.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** GET /audit/verify of the live store, on a started service. */
  const verify = async () => (await getJson<AuditVerifyResponse>(`${service.url}/audit/verify`)).body;

  /** The offline verifier of the SQLite file (npm run audit:verify), with `extra` options. */
  const offline = (...extra: string[]) => verifyOffline(dataDir, SERVICE, ...extra);

  it('killed while it archives: nothing deleted, the files written are whole; killed while it deletes: the live chain verifies from a signed checkpoint; the third run finishes, and archive plus live hold every event once, from genesis', async () => {
    // 1. While the archive is written: a segment file or more finished, the next one half-written, nothing deleted.
    await killWhen(service, 'an archive file finished and the next half-written', () => archiveFiles(archiveDir).length >= 1 && partials(archiveDir).some((size) => size > 0));
    const afterFirst = archiveFiles(archiveDir).length;
    expect(afterFirst).toBeGreaterThanOrEqual(1);
    expect(afterFirst).toBeLessThan(EVENTS / 5000);
    expect(partials(archiveDir)).toEqual([expect.any(Number)]);
    expect(liveOld()).toBe(EVENTS);
    const firstIds = archivedIds(archiveDir);
    expect(new Set(firstIds).size).toBe(firstIds.length);
    // Archive plus live, offline: every event once (the archived ones are all still live).
    const afterFirstKill = offline('--archive', archiveDir);
    expect(afterFirstKill.out).toMatch(new RegExp(`^${SERVICE}: INTACT; ${EVENTS} events checked`));
    expect(afterFirstKill.code).toBe(0);

    // 2. While the steps delete: some committed, the rest not.
    await killWhen(service, 'two steps deleted', () => liveOld() <= EVENTS - 10_000);
    const left = liveOld();
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(EVENTS);
    // Every step deletes through one of the writer's checkpoints: what is left starts right after one (a step in
    // flight when the process died was rolled back whole).
    expect(left % CHECKPOINT_EVERY).toBe(0);
    expect(archiveFiles(archiveDir)).toHaveLength(EVENTS / 5000);
    // The half-written file the first kill left was removed by the next pass (it was this writer's, and no process
    // was writing it).
    expect(partials(archiveDir)).toEqual([]);
    // The evidence an operator takes right after such a crash, the service down: the live store verifies with the
    // retention stated (its chain starts after the checkpoint the last step deleted through), and archive plus live
    // verify from genesis, each event once, though most steps are in both (archived, not yet deleted).
    const liveOnly = offline('--retention', '30d');
    expect(liveOnly.out).toMatch(new RegExp(`^${SERVICE}: INTACT; ${left} events checked`));
    expect(liveOnly.out).toContain(`pruned through checkpoint ${(EVENTS - left) / CHECKPOINT_EVERY} (${EVENTS - left} events)`);
    expect(liveOnly.code).toBe(0);
    const afterSecond = offline('--archive', archiveDir);
    expect(afterSecond.out).toMatch(new RegExp(`^${SERVICE}: INTACT; ${EVENTS} events checked`));
    expect(afterSecond.code).toBe(0);

    // 3. Restarted, its pass goes on and finishes; the live chain verified at every stage.
    await service.start();
    const middle = await verify();
    expect(middle.intact).toBe(true);
    await eventually('the third run\'s pass to delete every old event', async () => (liveOld() === 0 ? true : undefined), 60_000);
    const end = await verify();
    expect(end.intact).toBe(true);
    expect(end.pruned_through?.[SERVICE]).toEqual({ checkpoint_sequence: EVENTS / CHECKPOINT_EVERY, event_count: EVENTS });

    // Archive plus live store: every event once, from genesis, against the signed checkpoints.
    const ids = archivedIds(archiveDir);
    expect(ids).toHaveLength(EVENTS);
    expect(new Set(ids).size).toBe(EVENTS);
    expect(partials(archiveDir)).toEqual([]);
    await service.kill('SIGTERM'); // the offline verifier reads a store no service writes to
    const live = (reader.prepare('SELECT count(*) AS n FROM audit_events').get() as { n: number }).n;
    const whole = offline('--archive', archiveDir);
    expect(whole.out).toMatch(new RegExp(`^${SERVICE}: INTACT; ${EVENTS + live} events checked`));
    expect(whole.code).toBe(0);
  }, 240_000);
});

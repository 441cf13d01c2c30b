import { sqliteCompilations } from '@personai/monitoring/testing';
import { tempDir } from '@personai/service-kit/testing';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LIST_INTEGRATIONS_SQL, SqliteStateStore } from './sqlite-state.store';

// GET /integrations is the service's cheapest read: its statement is compiled once, not once per request.
// Counted with callgrind on better-sqlite3's own build (sqliteCompilations), on a file the real store created.
describe('GET /integrations on SQLite: the prepared statement', () => {
  let dir: ReturnType<typeof tempDir>;
  let file: string;

  beforeAll(async () => {
    dir = tempDir('personai-reprepare');
    file = join(dir.path, 'state.db');
    const store = new SqliteStateStore(file, 1000);
    await store.connectIntegration({ id: 'int_1', user_id: 'u1', provider: 'gmail', status: 'connected', connected_at: '2026-12-05T10:00:00.000Z', token_ciphertext: 'x' });
    await store.close();
  });
  afterAll(() => dir.remove());

  it('is not compiled again on each call', () => {
    const { steps, recompilations } = sqliteCompilations(file, LIST_INTEGRATIONS_SQL, ['u1'], 100);
    expect(steps).toBeGreaterThanOrEqual(100);
    expect(recompilations).toBe(0);
  }, 120_000);

  // The instrument is shown to see a recompilation: the same read with the user id bound bare, as it was, is
  // compiled again on every call after the first.
  it('would be, with the user id bound as a bare parameter (the count can fail)', () => {
    const bare = LIST_INTEGRATIONS_SQL.replace('CAST(? AS TEXT)', '?');
    expect(bare).not.toBe(LIST_INTEGRATIONS_SQL);
    expect(sqliteCompilations(file, bare, ['u1'], 100).recompilations).toBeGreaterThanOrEqual(99);
  }, 120_000);

  it("is the statement the bench's bare NestJS reference runs (the same work on both sides of the cheap GET ratio)", () => {
    const reference = readFileSync(join(__dirname, '../../../../../bench/lib/integrations-read.cjs'), 'utf8');
    expect(reference).toContain(`db.prepare('${LIST_INTEGRATIONS_SQL}')`);
  });
});

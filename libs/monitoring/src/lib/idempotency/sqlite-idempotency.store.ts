import Database from 'better-sqlite3';
import { GroupCommitter } from '../audit/stores/group-committer';
import { DEFAULT_STORE_TIMEOUT_MS } from '../monitoring.constants';
import { openSqlite, whenUnlocked } from '../audit/stores/sqlite-connection';
import { isLive } from './idempotency-record';
import { IdempotencyClaim, IdempotencyRecord, IdempotencyStore } from './idempotency-store.interface';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS idempotency_keys (
  key TEXT PRIMARY KEY,
  fingerprint TEXT NOT NULL,
  state TEXT NOT NULL,
  status INTEGER,
  body TEXT,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idempotency_keys_created ON idempotency_keys (created_at);
`;
const PURGE_EVERY_MS = 60_000;

type Operation =
  | { kind: 'claim'; claim: IdempotencyClaim }
  | { kind: 'complete'; key: string; status: number; body: string }
  | { kind: 'release'; key: string };

/**
 * Idempotency keys in the service's SQLite file, on its own connection. Concurrent claims, answers and
 * releases are written together in one transaction (group commit, like the audit log), so keyed requests
 * share fsyncs; lock waits never block the event loop.
 */
export class SqliteIdempotencyStore implements IdempotencyStore {
  private readonly db: Database.Database;
  private readonly committer: GroupCommitter<Operation, IdempotencyRecord | undefined>;
  private lastPurge = 0;

  constructor(
    path: string,
    private readonly writeTimeoutMs = DEFAULT_STORE_TIMEOUT_MS,
  ) {
    this.db = openSqlite(path, SCHEMA);
    const get = this.db.prepare('SELECT * FROM idempotency_keys WHERE key = ?');
    const put = this.db.prepare(
      `INSERT INTO idempotency_keys (key, fingerprint, state, status, body, created_at) VALUES (@key, @fingerprint, 'in_flight', NULL, NULL, @now)
       ON CONFLICT (key) DO UPDATE SET fingerprint = excluded.fingerprint, state = 'in_flight', status = NULL, body = NULL, created_at = excluded.created_at`,
    );
    const complete = this.db.prepare(`UPDATE idempotency_keys SET state = 'completed', status = @status, body = @body WHERE key = @key`);
    const release = this.db.prepare(`DELETE FROM idempotency_keys WHERE key = ? AND state = 'in_flight'`);
    const purge = this.db.prepare('DELETE FROM idempotency_keys WHERE created_at < ?');
    const claim = (c: IdempotencyClaim): IdempotencyRecord | undefined => {
      if (c.now - this.lastPurge > PURGE_EVERY_MS) {
        purge.run(c.now - c.ttlMs);
        this.lastPurge = c.now;
      }
      const existing = get.get(c.key) as IdempotencyRecord | undefined;
      if (existing && isLive(existing, c)) return existing;
      put.run(c);
      return undefined;
    };
    // Operations apply in order within the batch, so two claims of one key in the same batch still see each other.
    const apply = this.db.transaction((batch: Operation[]) =>
      batch.map((op) => {
        if (op.kind === 'claim') return claim(op.claim);
        if (op.kind === 'complete') complete.run(op);
        else release.run(op.key);
        return undefined;
      }),
    );
    this.committer = new GroupCommitter((batch) => whenUnlocked(() => apply.immediate(batch), this.writeTimeoutMs), { defer: true });
  }

  claim(claim: IdempotencyClaim): Promise<IdempotencyRecord | undefined> {
    return this.committer.submit({ kind: 'claim', claim });
  }

  async complete(key: string, status: number, body: string): Promise<void> {
    await this.committer.submit({ kind: 'complete', key, status, body });
  }

  async release(key: string): Promise<void> {
    await this.committer.submit({ kind: 'release', key });
  }

  async close(): Promise<void> {
    await this.committer.drain();
    if (this.db.open) this.db.close();
  }
}

import Database from 'better-sqlite3';
import { openSqlite, whenUnlocked } from '../audit/sqlite-connection';
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

/** Idempotency keys in the service's SQLite file (its own connection; lock waits never block the event loop). */
export class SqliteIdempotencyStore implements IdempotencyStore {
  private readonly db: Database.Database;
  private readonly claimTx: Database.Transaction<(c: IdempotencyClaim) => IdempotencyRecord | undefined>;
  private lastPurge = 0;

  constructor(
    path: string,
    private readonly writeTimeoutMs = 5000,
  ) {
    this.db = openSqlite(path, SCHEMA);
    const get = this.db.prepare('SELECT * FROM idempotency_keys WHERE key = ?');
    const put = this.db.prepare(
      `INSERT INTO idempotency_keys (key, fingerprint, state, status, body, created_at) VALUES (@key, @fingerprint, 'in_flight', NULL, NULL, @now)
       ON CONFLICT (key) DO UPDATE SET fingerprint = excluded.fingerprint, state = 'in_flight', status = NULL, body = NULL, created_at = excluded.created_at`,
    );
    const purge = this.db.prepare('DELETE FROM idempotency_keys WHERE created_at < ?');
    this.claimTx = this.db.transaction((c: IdempotencyClaim) => {
      if (c.now - this.lastPurge > PURGE_EVERY_MS) {
        purge.run(c.now - c.ttlMs);
        this.lastPurge = c.now;
      }
      const existing = get.get(c.key) as IdempotencyRecord | undefined;
      if (existing && isLive(existing, c)) return existing;
      put.run(c);
      return undefined;
    });
  }

  claim(claim: IdempotencyClaim): Promise<IdempotencyRecord | undefined> {
    return whenUnlocked(() => this.claimTx.immediate(claim), this.writeTimeoutMs);
  }

  async complete(key: string, status: number, body: string): Promise<void> {
    await whenUnlocked(() => this.db.prepare(`UPDATE idempotency_keys SET state = 'completed', status = ?, body = ? WHERE key = ?`).run(status, body, key), this.writeTimeoutMs);
  }

  async release(key: string): Promise<void> {
    await whenUnlocked(() => this.db.prepare(`DELETE FROM idempotency_keys WHERE key = ? AND state = 'in_flight'`).run(key), this.writeTimeoutMs);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

/** Whether an existing record still stands: not expired, and not an abandoned claim past its lease. */
export function isLive(record: IdempotencyRecord, claim: IdempotencyClaim): boolean {
  const age = claim.now - Number(record.created_at);
  if (age > claim.ttlMs) return false;
  return record.state === 'completed' || age <= claim.leaseMs;
}

import type { Pool } from 'pg';
import { IdempotencyClaim, IdempotencyRecord, IdempotencyStore } from './idempotency-store.interface';
import { DEFAULT_STORE_TIMEOUT_MS } from '../monitoring.constants';
import { createPool, inTransaction, schemaOnFirstUse } from '../audit/stores/postgres-connection';
import { isLive } from './idempotency-record';

const SCHEMA = `CREATE TABLE IF NOT EXISTS idempotency_keys (
  service TEXT NOT NULL,
  key TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  state TEXT NOT NULL,
  status INTEGER,
  body TEXT,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (service, key))`;
const SCHEMA_LOCK = 7_302_114_002;
const PURGE_EVERY_MS = 60_000;

/**
 * Idempotency keys in PostgreSQL, shared by every replica of a service: a claim takes a row lock, so two
 * replicas given the same key at once never both run the handler.
 */
export class PostgresIdempotencyStore implements IdempotencyStore {
  private readonly pool: Pool;
  private readonly ready: () => Promise<void>;
  private lastPurge = 0;

  constructor(
    url: string,
    private readonly service: string,
    timeoutMs = DEFAULT_STORE_TIMEOUT_MS,
  ) {
    this.pool = createPool(url, timeoutMs);
    this.ready = schemaOnFirstUse(this.pool, SCHEMA_LOCK, [SCHEMA]);
  }

  async claim(c: IdempotencyClaim): Promise<IdempotencyRecord | undefined> {
    await this.ready();
    if (c.now - this.lastPurge > PURGE_EVERY_MS) {
      this.lastPurge = c.now;
      await this.pool.query('DELETE FROM idempotency_keys WHERE service = $1 AND created_at < $2', [this.service, c.now - c.ttlMs]);
    }
    return inTransaction(this.pool, async (client) => {
      const inserted = await client.query(
        `INSERT INTO idempotency_keys (service, key, fingerprint, state, created_at) VALUES ($1, $2, $3, 'in_flight', $4) ON CONFLICT (service, key) DO NOTHING`,
        [this.service, c.key, c.fingerprint, c.now],
      );
      let existing: IdempotencyRecord | undefined;
      if (inserted.rowCount === 0) {
        existing = (await client.query<IdempotencyRecord>('SELECT * FROM idempotency_keys WHERE service = $1 AND key = $2 FOR UPDATE', [this.service, c.key])).rows[0];
        if (existing && !isLive(existing, c)) {
          await client.query(`UPDATE idempotency_keys SET fingerprint = $3, state = 'in_flight', status = NULL, body = NULL, created_at = $4 WHERE service = $1 AND key = $2`, [this.service, c.key, c.fingerprint, c.now]);
          existing = undefined;
        }
      }
      return existing && { ...existing, created_at: Number(existing.created_at) };
    });
  }

  async complete(key: string, status: number, body: string): Promise<void> {
    await this.ready();
    await this.pool.query(`UPDATE idempotency_keys SET state = 'completed', status = $3, body = $4 WHERE service = $1 AND key = $2`, [this.service, key, status, body]);
  }

  async release(key: string): Promise<void> {
    await this.pool.query(`DELETE FROM idempotency_keys WHERE service = $1 AND key = $2 AND state = 'in_flight'`, [this.service, key]);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeIdempotencyStoreContract } from '../testing/idempotency-store-contract';
import { PostgresIdempotencyStore } from './postgres-idempotency.store';
import { SqliteIdempotencyStore } from './sqlite-idempotency.store';

/** The real PostgreSQL server of the machine (trust auth, database `test`); never a mock. */
const PG_URL = process.env['PG_TEST_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

describeIdempotencyStoreContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'idempotency-sqlite-'));
  return { open: () => new SqliteIdempotencyStore(join(dir, 'audit.db')), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
});

describeIdempotencyStoreContract('PostgreSQL', async () => {
  // Each run keeps its keys under its own service name, so runs never see each other.
  const service = `spec_${randomUUID().slice(0, 8)}`;
  return { open: () => new PostgresIdempotencyStore(PG_URL, service), cleanup: async () => undefined };
});

import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Opens a SQLite file as every store of the service does: WAL journal, synchronous=FULL (an acknowledged
 * write survives a crash of the process and of the machine), `schema` applied. Opening may wait for a
 * lock held by another connection (start-up only, so `setup` may prepare and migrate too); afterwards the
 * busy timeout is 0 and writes go through {@link whenUnlocked}, so they never block the event loop.
 */
export function openSqlite(path: string, schema: string, setup?: (db: Database.Database) => void): Database.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.exec(schema);
  setup?.(db);
  db.pragma('busy_timeout = 0');
  return db;
}

/**
 * Adds a nullable column to a table of a file written by an earlier version (SQLite has no `ADD COLUMN IF
 * NOT EXISTS`); the rows it already holds get NULL. For `openSqlite`'s `setup`.
 */
export function addColumnIfMissing(db: Database.Database, table: string, column: string, type: string): void {
  const columns = db.prepare('SELECT name FROM pragma_table_info(?)').all(table) as { name: string }[];
  if (!columns.some((c) => c.name === column)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
}

/** SQLITE_BUSY and its extended codes: another connection (or process) holds the lock we need. */
export function isSqliteBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

/**
 * Runs a synchronous better-sqlite3 write, retrying while the database is locked, with the waits between
 * attempts on timers rather than in SQLite's busy handler: better-sqlite3 is synchronous, so a busy
 * timeout would freeze the event loop (every request, /health included) for as long as another process
 * holds the lock. Gives up with a clear error after `timeoutMs`.
 */
export async function whenUnlocked<T>(write: () => T, timeoutMs: number): Promise<T> {
  const giveUpAt = Date.now() + timeoutMs;
  for (let waitMs = 1; ; waitMs = Math.min(waitMs * 2, 25)) {
    try {
      return write();
    } catch (err) {
      if (!isSqliteBusy(err)) throw err;
      if (Date.now() + waitMs > giveUpAt) throw new Error(`database is locked by another connection (gave up after ${timeoutMs} ms)`);
    }
    await new Promise((resolve) => setTimeout(resolve, waitMs));
  }
}

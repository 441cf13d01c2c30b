import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { Client } from 'pg';
import { isPostgresUrl } from './audit-database-url';
import type { AuditRow } from '../evidence/audit-row';

const PAGE = 5000;

/** A store's audit rows, read directly (read-only on SQLite): what the offline verifier checks. */
export interface AuditRowSource {
  /** The service whose rows the store holds, when it holds one service's only. */
  service: () => Promise<string | undefined>;
  /** Every row, in commit order. */
  rows: () => AsyncGenerator<AuditRow>;
  /** Per writer, the hash its first stored row links to (genesis, or the last event retention removed). */
  firstLinks: () => Promise<Map<string, string>>;
  close: () => Promise<void>;
}

/** A store's audit rows in commit order, read directly (read-only on SQLite): what the offline verifier checks. */
export function auditRowsOf(store: string, service?: string): AuditRowSource {
  if (isPostgresUrl(store)) {
    const client = new Client({ connectionString: store });
    const connected = client.connect();
    return {
      service: async () => {
        await connected;
        const names = (await client.query<{ service: string }>('SELECT DISTINCT service FROM audit_events LIMIT 2')).rows;
        return names.length === 1 ? names[0].service : undefined;
      },
      rows: async function* () {
        await connected;
        let seq = '0';
        for (;;) {
          const page = (await client.query<AuditRow & { seq: string }>('SELECT * FROM audit_events WHERE service = $1 AND seq > $2 ORDER BY seq LIMIT $3', [service, seq, PAGE])).rows;
          yield* page;
          if (page.length < PAGE) return;
          seq = page[page.length - 1].seq;
        }
      },
      firstLinks: async () => {
        await connected;
        const firsts = await client.query<{ writer: string; prev_hash: string }>('SELECT writer, prev_hash FROM audit_events WHERE service = $1 AND seq IN (SELECT MIN(seq) FROM audit_events WHERE service = $1 GROUP BY writer)', [service]);
        return new Map(firsts.rows.map((r) => [r.writer, r.prev_hash]));
      },
      close: () => client.end(),
    };
  }
  if (!existsSync(store)) throw new Error(`no SQLite audit store at ${store}`);
  const db = new Database(store, { readonly: true, fileMustExist: true });
  return {
    service: async () => (db.prepare('SELECT service FROM audit_events ORDER BY seq LIMIT 1').get() as { service: string } | undefined)?.service ?? service,
    rows: async function* () {
      let seq = 0;
      const page = db.prepare('SELECT * FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?');
      for (;;) {
        const rows = page.all(seq, PAGE) as (AuditRow & { seq: number })[];
        yield* rows;
        if (rows.length < PAGE) return;
        seq = rows[rows.length - 1].seq;
      }
    },
    firstLinks: async () => {
      const firsts = db.prepare('SELECT writer, prev_hash FROM audit_events WHERE seq IN (SELECT MIN(seq) FROM audit_events GROUP BY writer)').all() as { writer: string; prev_hash: string }[];
      return new Map(firsts.map((r) => [r.writer, r.prev_hash]));
    },
    close: async () => void db.close(),
  };
}

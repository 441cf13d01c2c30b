import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseDuration } from '../duration';
import { archivedRows } from './audit-archive';
import { DirectoryCheckpointAnchor } from './audit-checkpoint';
import { isPostgresUrl } from './audit-database-url';
import { auditRowsOf } from './audit-rows';
import { verifyAuditRows } from './audit-verifier';

const USAGE = 'usage: personai-audit verify --store <sqlite file | postgres://…> --checkpoints <dir> --public-key <pem file> [--archive <dir>] [--retention <90d|720h>] [--service <name>] [--json]';

/**
 * The offline audit verifier: checks a service's audit store against its signed checkpoints with no
 * service running. `argv` after the program name (`verify --store … --checkpoints … --public-key …`);
 * resolves with the exit code: 0 intact (unanchored events are listed, not failures), 1 tampering found,
 * 2 bad arguments. An unreadable store or key rejects.
 */
export async function runAuditCli(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { store: { type: 'string' }, checkpoints: { type: 'string' }, 'public-key': { type: 'string' }, archive: { type: 'string' }, retention: { type: 'string' }, service: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  // A retention is days, hours, minutes or seconds (`90d`), as AUDIT_RETENTION takes it.
  const retentionMs = values.retention === undefined ? undefined : /^\d+[smhd]$/.test(values.retention) ? (parseDuration(values.retention) ?? null) : null;
  if (positionals[0] !== 'verify' || !values.store || !values.checkpoints || !values['public-key'] || retentionMs === null) {
    err.write(`${USAGE}\n`);
    return 2;
  }
  const publicKey = createPublicKey(readFileSync(values['public-key']));
  const source = auditRowsOf(values.store, values.service);
  try {
    const service = values.service ?? (await source.service());
    if (!service) throw new Error(isPostgresUrl(values.store) ? 'give --service: the PostgreSQL table holds several services' : 'the store holds no events');
    const { checkpoints, unreadable } = new DirectoryCheckpointAnchor(values.checkpoints).read(service);
    const archive = values.archive;
    const rows = async function* () {
      if (archive) yield* archivedRows(archive, service);
      yield* source.rows();
    };
    const prunedBefore = retentionMs ? new Date(Date.now() - retentionMs).toISOString() : undefined;
    const report = await verifyAuditRows(rows(), checkpoints, publicKey, unreadable, { prunedBefore });
    if (values.json) out.write(`${JSON.stringify({ service, ...report }, null, 2)}\n`);
    else {
      out.write(`${service}: ${report.intact ? 'INTACT' : 'TAMPERED'}; ${report.checked} events checked against ${checkpoints.length} checkpoint(s), ${report.unanchored} unanchored\n`);
      for (const [writer, p] of Object.entries(report.prunedThrough)) out.write(`  ${writer}: pruned through checkpoint ${p.checkpoint_sequence} (${p.event_count} events)\n`);
      for (const [writer, a] of Object.entries(report.anchoredThrough)) out.write(`  ${writer}: anchored through event ${a.event_id} (${a.event_count} events, checkpoint ${a.checkpoint_sequence})\n`);
      for (const f of report.findings) out.write(`  ${f.kind.toUpperCase()} ${f.writer}${f.event_id ? ` event ${f.event_id}` : ''}${f.checkpoint_sequence ? ` checkpoint ${f.checkpoint_sequence}` : ''}: ${f.detail}\n`);
    }
    return report.intact ? 0 : 1;
  } finally {
    await source.close();
  }
}

/** Runs the verifier on this process's arguments and exits with its code (2, with `program: message`, when it throws). */
export function auditCliMain(program: string): void {
  runAuditCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${program}: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(2);
    },
  );
}

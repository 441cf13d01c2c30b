import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseDuration } from '../../duration';
import { MONITORING_VERSION } from '../../monitoring.constants';
import { archivedRows, archivedThenLive } from '../evidence/audit-archive';
import { DirectoryCheckpointAnchor } from '../evidence/audit-checkpoint';
import { isPostgresUrl } from '../stores/audit-database-url';
import { auditRowsOf } from '../stores/audit-rows';
import { verifyAuditRows } from '../evidence/audit-verifier';

const USAGE = 'usage: personai-audit verify --store <sqlite file | postgres://…> --checkpoints <dir> --public-key <pem file> [--archive <dir>] [--retention <90d|720h>] [--service <name>] [--json]';

/** What `--help` prints: every flag with its default, and the exit codes (README, "Audit evidence"). */
export const AUDIT_CLI_HELP = `personai-audit: checks a service's audit store against its signed checkpoints, offline (no service running).

Usage:
  personai-audit verify --store <sqlite file | postgres://…> --checkpoints <dir> --public-key <pem file> [options]
  personai-audit --help | --version

Options:
  --store <file|url>       the audit store: a SQLite file (DATA_DIR/audit.db) or a PostgreSQL URL (required)
  --checkpoints <dir>      the signed checkpoints, AUDIT_CHECKPOINT_DIR (required)
  --public-key <pem file>  the public key of AUDIT_SIGNING_KEY (required)
  --archive <dir>          pruned segments or partitions, checked with the live store from genesis (default: none)
  --retention <duration>   accept a chain pruned at a checkpoint older than this: 90d, 720h, 30m, 60s (default: none,
                           a pruned chain is a finding)
  --service <name>         the service to check (default: the only one in a SQLite store; required on PostgreSQL,
                           whose table holds every service)
  --json                   the report as JSON (default: off, one line per writer and per finding)
  -h, --help               this help, exit 0
  --version                the version, exit 0

Exit codes:
  0  intact: every event chained and matching the checkpoints that cover it (events after the last checkpoint are
     listed as unanchored, not failures)
  1  tampering found: an edited, deleted, inserted or reordered event, or a checkpoint that does not match
  2  usage error, or an unreadable store, checkpoint directory or key
`;


/**
 * The offline audit verifier: checks a service's audit store against its signed checkpoints with no
 * service running. `argv` after the program name (`verify --store … --checkpoints … --public-key …`);
 * resolves with the exit code: 0 intact (unanchored events are listed, not failures), 1 tampering found,
 * 2 bad arguments (`--help` and `--version` print and resolve 0). An unreadable store or key rejects.
 */
export async function runAuditCli(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        store: { type: 'string' },
        checkpoints: { type: 'string' },
        'public-key': { type: 'string' },
        archive: { type: 'string' },
        retention: { type: 'string' },
        service: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    err.write(`${error instanceof Error ? error.message : String(error)}\n${USAGE}\n(personai-audit --help lists every option)\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    out.write(AUDIT_CLI_HELP);
    return 0;
  }
  if (values.version) {
    out.write(`${MONITORING_VERSION}\n`);
    return 0;
  }
  // A retention is days, hours, minutes or seconds (`90d`), as AUDIT_RETENTION takes it.
  const retentionMs = values.retention === undefined ? undefined : /^\d+[smhd]$/.test(values.retention) ? (parseDuration(values.retention) ?? null) : null;
  const problem =
    positionals[0] !== 'verify' ? (positionals[0] ? `unknown command '${positionals[0]}'` : 'no command')
    : !values.store || !values.checkpoints || !values['public-key'] ? `missing ${['store', 'checkpoints', 'public-key'].filter((f) => !values[f as 'store']).map((f) => `--${f}`).join(', ')}`
    : retentionMs === null ? `--retention '${values.retention}' is not a duration such as 90d or 720h`
    : undefined;
  const { store, checkpoints: checkpointDir, 'public-key': keyFile } = values;
  if (problem || !store || !checkpointDir || !keyFile) {
    err.write(`${problem}\n${USAGE}\n(personai-audit --help lists every option)\n`);
    return 2;
  }
  const publicKey = createPublicKey(readFileSync(keyFile));
  const source = auditRowsOf(store, values.service);
  try {
    const service = values.service ?? (await source.service());
    if (!service) throw new Error(isPostgresUrl(store) ? 'give --service: the PostgreSQL table holds several services' : 'the store holds no events');
    const { checkpoints, unreadable } = new DirectoryCheckpointAnchor(checkpointDir).read(service);
    const archive = values.archive;
    // With the archive: each event once, where the archive and the live store overlap (see archivedThenLive).
    const rows = archive ? archivedThenLive(archivedRows(archive, service), await source.firstLinks(), source.rows()) : source.rows();
    const prunedBefore = retentionMs ? new Date(Date.now() - retentionMs).toISOString() : undefined;
    const report = await verifyAuditRows(rows, checkpoints, publicKey, unreadable, { prunedBefore });
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

// The offline audit verifier: checks a service's audit store against its signed checkpoints with no service running.
//   node dist/apps/audit-cli/main.js verify --store <sqlite file | postgres://…> --checkpoints <dir> --public-key <pem>
//     [--archive <dir>: pruned segments, checked with the live store from genesis] [--retention 90d: accept a chain
//     pruned at a checkpoint older than this] [--service <name>] [--json]
//   npm run audit:verify -- --store … (the same)
// Exit code: 0 intact (unanchored events are listed, not failures), 1 tampering found, 2 bad arguments or an unreadable store.
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { archivedRows, auditRowsOf, DirectoryCheckpointAnchor, isPostgresUrl, parseDuration, verifyAuditRows } from '@personai/monitoring';

const USAGE = 'usage: audit-cli verify --store <sqlite file | postgres://…> --checkpoints <dir> --public-key <pem file> [--archive <dir>] [--retention <90d|720h>] [--service <name>] [--json]';

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { store: { type: 'string' }, checkpoints: { type: 'string' }, 'public-key': { type: 'string' }, archive: { type: 'string' }, retention: { type: 'string' }, service: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  // A retention is days, hours, minutes or seconds (`90d`), as AUDIT_RETENTION takes it.
  const retentionMs = values.retention === undefined ? undefined : /^\d+[smhd]$/.test(values.retention) ? (parseDuration(values.retention) ?? null) : null;
  if (positionals[0] !== 'verify' || !values.store || !values.checkpoints || !values['public-key'] || retentionMs === null) {
    process.stderr.write(`${USAGE}\n`);
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
    if (values.json) process.stdout.write(`${JSON.stringify({ service, ...report }, null, 2)}\n`);
    else {
      process.stdout.write(`${service}: ${report.intact ? 'INTACT' : 'TAMPERED'}; ${report.checked} events checked against ${checkpoints.length} checkpoint(s), ${report.unanchored} unanchored\n`);
      for (const [writer, p] of Object.entries(report.prunedThrough)) process.stdout.write(`  ${writer}: pruned through checkpoint ${p.checkpoint_sequence} (${p.event_count} events)\n`);
      for (const [writer, a] of Object.entries(report.anchoredThrough)) process.stdout.write(`  ${writer}: anchored through event ${a.event_id} (${a.event_count} events, checkpoint ${a.checkpoint_sequence})\n`);
      for (const f of report.findings) process.stdout.write(`  ${f.kind.toUpperCase()} ${f.writer}${f.event_id ? ` event ${f.event_id}` : ''}${f.checkpoint_sequence ? ` checkpoint ${f.checkpoint_sequence}` : ''}: ${f.detail}\n`);
    }
    return report.intact ? 0 : 1;
  } finally {
    await source.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`audit-cli: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);

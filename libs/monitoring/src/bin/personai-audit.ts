#!/usr/bin/env node
// `npx personai-audit verify --store <sqlite file | postgres://…> --checkpoints <dir> --public-key <pem> [--archive <dir>]
// [--retention 90d] [--service <name>] [--json]`: the offline audit verifier of an installed @personai/monitoring.
// Exit code: 0 intact, 1 tampering found, 2 bad arguments or an unreadable store.
import { runAuditCli } from '../lib/audit/audit-cli';

runAuditCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`personai-audit: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);

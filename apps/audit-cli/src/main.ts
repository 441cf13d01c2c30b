// The offline audit verifier (the same as `npx personai-audit` from the published @personai/monitoring):
//   node dist/apps/audit-cli/main.js verify --store <sqlite file | postgres://…> --checkpoints <dir> --public-key <pem>
//     [--archive <dir>: pruned segments or partitions, checked with the live store from genesis] [--retention 90d:
//     accept a chain pruned at a checkpoint older than this] [--service <name>] [--json]
//   npm run audit:verify -- --store … (the same)
// --help (-h) lists every option with its default, --version prints the version. Exit code: 0 intact (unanchored
// events are listed, not failures), 1 tampering found, 2 a usage error or an unreadable store, checkpoints or key.
import { auditCliMain } from '@personai/monitoring';

auditCliMain('audit-cli');

#!/usr/bin/env node
// `npx personai-audit verify --store <sqlite file | postgres://…> --checkpoints <dir> --public-key <pem> [--archive <dir>]
// [--retention 90d] [--service <name>] [--json]`: the offline audit verifier of an installed @personai/monitoring.
// --help (-h) lists every option with its default, --version prints the version.
// Exit code: 0 intact, 1 tampering found, 2 a usage error or an unreadable store, checkpoints or key.
import { auditCliMain } from '../lib/audit/cli/audit-cli';

auditCliMain('personai-audit');

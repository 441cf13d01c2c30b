#!/usr/bin/env node
// `npx personai-audit verify --store <sqlite file | postgres://…> --checkpoints <dir> --public-key <pem> [--archive <dir>]
// [--retention 90d] [--service <name>] [--json]`: the offline audit verifier of an installed @personai/monitoring.
// Exit code: 0 intact, 1 tampering found, 2 bad arguments or an unreadable store.
import { auditCliMain } from '../lib/audit/audit-cli';

auditCliMain('personai-audit');

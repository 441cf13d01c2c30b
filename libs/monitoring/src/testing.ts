// Test-only entry point: helpers for specs that host the monitoring module.
export { SqliteAuditStore } from './lib/audit/stores/sqlite-audit.store';
export { GENESIS_HASH, hashEvent, canonicalJson } from './lib/audit/evidence/audit-hash';
export { redact, REDACTED } from './lib/audit/capture/redact';
export { overallStatus, markStale } from './lib/health/health-status';
export { createTestApp } from './lib/testing/create-test-app';
export { startStubServer } from './lib/testing/stub-server';
export type { StubServer, StubRequest, StubHandler } from './lib/testing/stub-server';
export { describeAuditStoreContract, sampleEvent } from './lib/testing/audit-store-contract';
export type { AuditStoreHarness } from './lib/testing/audit-store-contract';
export { PostgresAuditStore } from './lib/audit/stores/postgres-audit.store';
export { describeIdempotencyStoreContract } from './lib/testing/idempotency-store-contract';
export type { IdempotencyStoreHarness } from './lib/testing/idempotency-store-contract';
export { MemoryAuditBackend } from './lib/testing/memory-audit.backend';
export { recompiledStatements, sqliteCompilations } from './lib/testing/sqlite-compilations';
export type { SqliteCompilations, SqliteRead } from './lib/testing/sqlite-compilations';

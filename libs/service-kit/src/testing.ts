// Test-only entry point: a stub upstream server and a service app factory for specs.
export { startStubServer } from '@personai/monitoring/testing';
export type { StubServer, StubRequest, StubHandler } from '@personai/monitoring/testing';
export { createServiceTestApp } from './lib/testing/create-service-test-app';
export { tempDir } from './lib/testing/temp-dir';
export { freshDatabase, PG_TEST_URL } from './lib/testing/fresh-database';

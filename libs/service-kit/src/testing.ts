// Test-only entry point: a stub upstream server and a service app factory for specs.
export { startStubServer } from './lib/testing/stub-server';
export type { StubServer, StubRequest, StubHandler } from './lib/testing/stub-server';
export { createServiceTestApp } from './lib/testing/create-service-test-app';
export { tempDir } from './lib/testing/temp-dir';

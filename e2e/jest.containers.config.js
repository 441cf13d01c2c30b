// The container check (`npx nx run e2e:containers`, the last step of `npm test`): builds docker/Dockerfile for
// every app and runs the images wired as docker/docker-compose.yml wires them, in a real container runtime
// (Debian's podman). Skipped, with one line saying why, where none answers. No global setup: it starts its own stack.
module.exports = {
  displayName: 'containers',
  preset: '../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/containers/**/*.container-spec.ts'],
  // Image builds are minutes, not seconds; each step says its own limit.
  testTimeout: 600_000,
  maxWorkers: 1,
};

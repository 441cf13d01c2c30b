module.exports = { displayName: 'integration-controller', preset: '../../jest.preset.js', rootDir: '.', coverageDirectory: '../../coverage/apps/integration-controller' };

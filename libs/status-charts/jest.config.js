module.exports = { displayName: 'status-charts', preset: '../../jest.preset.js', rootDir: '.', coverageDirectory: '../../coverage/libs/status-charts' };

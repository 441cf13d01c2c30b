module.exports = { displayName: 'service-prober', preset: '../../jest.preset.js', rootDir: '.', coverageDirectory: '../../coverage/apps/service-prober' };

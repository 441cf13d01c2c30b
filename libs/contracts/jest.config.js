module.exports = { displayName: 'contracts', preset: '../../jest.preset.js', rootDir: '.', coverageDirectory: '../../coverage/libs/contracts' };

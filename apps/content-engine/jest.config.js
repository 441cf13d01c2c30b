module.exports = { displayName: 'content-engine', preset: '../../jest.preset.js', rootDir: '.', coverageDirectory: '../../coverage/apps/content-engine' };

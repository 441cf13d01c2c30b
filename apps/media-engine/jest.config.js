module.exports = { displayName: 'media-engine', preset: '../../jest.preset.js', rootDir: '.', coverageDirectory: '../../coverage/apps/media-engine' };

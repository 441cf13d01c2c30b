module.exports = { displayName: 'fake-upstreams', preset: '../../jest.preset.js', rootDir: '.', coverageDirectory: '../../coverage/apps/fake-upstreams' };

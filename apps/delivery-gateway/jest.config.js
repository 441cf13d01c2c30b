module.exports = { displayName: 'delivery-gateway', preset: '../../jest.preset.js', rootDir: '.', coverageDirectory: '../../coverage/apps/delivery-gateway' };

module.exports = { displayName: 'audit-collector', preset: '../../jest.preset.js', rootDir: '.', coverageDirectory: '../../coverage/apps/audit-collector' };

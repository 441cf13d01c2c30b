module.exports = { displayName: 'deploy', preset: '../jest.preset.js', rootDir: '.', testMatch: ['<rootDir>/checks/**/*.spec.ts'] };

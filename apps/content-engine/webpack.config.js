module.exports = require('../../tools/webpack/app-config')('content-engine');

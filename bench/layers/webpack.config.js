module.exports = require('../../tools/webpack/app-config')('bench-layers');

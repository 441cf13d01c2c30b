module.exports = require('../../tools/webpack/app-config')('service-prober');

module.exports = require('../../tools/webpack/app-config')('audit-collector');

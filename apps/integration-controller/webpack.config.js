module.exports = require('../../tools/webpack/app-config')('integration-controller');

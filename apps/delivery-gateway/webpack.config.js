module.exports = require('../../tools/webpack/app-config')('delivery-gateway');

module.exports = require('../../tools/webpack/app-config')('fake-upstreams');

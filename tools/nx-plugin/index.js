// The plugin's generators are listed in generators.json; nothing else is exported.
module.exports = {};

// The webpack configuration every app shares: a Node bundle of src/main.ts with the workspace libs
// inlined and node_modules left external (the image installs them).
const { NxAppWebpackPlugin } = require('@nx/webpack/app-plugin');
const { join } = require('node:path');

module.exports = function appWebpackConfig(app) {
  return {
    output: { path: join(__dirname, '..', '..', 'dist', 'apps', app), clean: true },
    plugins: [
      new NxAppWebpackPlugin({
        target: 'node',
        compiler: 'tsc',
        main: './src/main.ts',
        tsConfig: './tsconfig.app.json',
        optimization: false,
        outputHashing: 'none',
        sourceMap: true,
      }),
    ],
  };
};

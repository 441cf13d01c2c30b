// The webpack configuration every app shares: one Node bundle of src/main.ts with the workspace libs and the
// npm dependencies inlined, so that a start reads one file (compiled once into NODE_COMPILE_CACHE) instead of
// resolving and compiling some 1,600 files of node_modules. Left external, loaded from node_modules:
const { NxAppWebpackPlugin } = require('@nx/webpack/app-plugin');
const TerserPlugin = require('terser-webpack-plugin');
const { ContextReplacementPlugin } = require('webpack');
const { join } = require('node:path');

const EXTERNAL = [
  // a native addon (its .node binary is found relative to its package) and a package of static files
  'better-sqlite3',
  'swagger-ui-dist',
  'swagger-ui-dist/absolute-path.js',
  // what OpenTelemetry instruments by hooking `require`: a bundled copy could not be instrumented
  'pg',
  // loaded only when asked for (tracing configured, REDIS_URL or AUDIT_STREAM_URL set): from node_modules then, never at start-up
  '@opentelemetry/core',
  '@opentelemetry/sdk-trace',
  '@opentelemetry/sdk-node',
  '@opentelemetry/instrumentation-undici',
  '@opentelemetry/instrumentation-pg',
  '@opentelemetry/exporter-trace-otlp-http',
  '@opentelemetry/exporter-trace-otlp-proto',
  'bullmq',
  'ioredis',
  '@nats-io/transport-node',
  '@nats-io/jetstream',
  // Nest's optional integrations, none installed: a bundle keeps their require, which fails as Nest expects
  '@nestjs/microservices',
  '@nestjs/microservices/microservices-module',
  '@nestjs/websockets',
  '@nestjs/websockets/socket-module',
  '@nestjs/platform-express',
  '@fastify/view',
  'pg-native',
  // and Terminus's database indicators' (never used here: the services' checks are their own)
  '@mikro-orm/core',
  '@nestjs/typeorm/dist/common/typeorm.utils',
  '@nestjs/sequelize/dist/common/sequelize.utils',
  '@nestjs/mongoose',
  // @nestjs/mapped-types falls back to a path class-transformer 0.5 does not have (it loads cjs/storage first)
  'class-transformer/storage',
];

// Known and harmless: Nest's and load-esm's `require(variable)` of optional packages (see above), and npm
// packages that ship source maps pointing at sources they do not ship.
const IGNORED_WARNINGS = [/Failed to parse source map/, { module: /node_modules\/(@nestjs\/(common|core)|load-esm)\//, message: /Critical dependency/ }];

/**
 * The bundle printed compact and in ASCII: no comments or indentation, and every other character as a \u escape.
 * V8 keeps a script's whole source in the heap for as long as it runs, as one byte a character when all of
 * it is Latin-1, two otherwise; npm packages' em dashes and Cyrillic made the 5.9 MB bundle an 11.8 MB string.
 * Printed this way it is 3.8 MB, one byte a character (idle RSS 139 -> 123 MB for integration-controller).
 * Names are kept (no mangling, no compression): stack traces name the same functions as the sources, and
 * the source map (dist/) still maps positions back to them.
 */
class CompactAsciiBundle {
  apply(compiler) {
    compiler.options.optimization = {
      ...compiler.options.optimization,
      minimize: true,
      minimizer: [new TerserPlugin({ extractComments: false, terserOptions: { compress: false, mangle: false, format: { ascii_only: true, comments: false } } })],
    };
  }
}

module.exports = function appWebpackConfig(app) {
  return {
    output: { path: join(__dirname, '..', '..', 'dist', 'apps', app), clean: true },
    ignoreWarnings: IGNORED_WARNINGS,
    plugins: [
      // Terminus's `optional(name)` is `require(\`${name}\`)`: bundled, that would pull its own folder (its .d.ts
      // and .map files) into the bundle. An empty context instead: every such optional package reads as absent,
      // which is what it is (the indicators that ask, TypeORM, Mongoose, Axios and the like, are not used).
      new ContextReplacementPlugin(/@nestjs[\\/]terminus[\\/]dist[\\/]utils$/, /^$/),
      new NxAppWebpackPlugin({
        target: 'node',
        compiler: 'tsc',
        main: './src/main.ts',
        tsConfig: './tsconfig.app.json',
        optimization: false,
        outputHashing: 'none',
        // BUNDLE_SOURCE_MAPS=false: no source map (the image build: it would not ship one). Otherwise dist/ keeps one.
        sourceMap: process.env.BUNDLE_SOURCE_MAPS !== 'false',
        externalDependencies: EXTERNAL,
        // Transpile only (ts-loader's transpileOnly, as before): the types are each project's `typecheck` target's job,
        // which npm test and CI run. The build's own checker (fork-ts-checker) type-checked every app and the libs again
        // in a process of its own, and changed no byte of a bundle; without it a full build took 131 s instead of 163 s.
        typeCheckOptions: false,
      }),
      new CompactAsciiBundle(),
    ],
  };
};

module.exports.EXTERNAL = EXTERNAL;

export * from './lib/services';
export * from './lib/health.contract';
export * from './lib/audit.contract';
export * from './lib/metrics.catalog';
export * from './lib/error.contract';
export * from './lib/schemas';

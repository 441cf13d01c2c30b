export const COLLECTOR_CONFIG = 'COLLECTOR_CONFIG';
export const COLLECTOR_STORE = 'COLLECTOR_STORE';
/** Opens the audit stream's consumer: `() => Promise<AuditStreamSource>`. */
export const COLLECTOR_SOURCE = 'COLLECTOR_SOURCE';

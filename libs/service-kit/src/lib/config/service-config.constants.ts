/** Injection token of the service's validated configuration (a ServiceEnv subclass). */
export const SERVICE_CONFIG = 'SERVICE_CONFIG';

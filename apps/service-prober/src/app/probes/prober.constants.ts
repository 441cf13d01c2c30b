/** The prober's validated configuration (ServiceProberEnv). */
export const PROBER_CONFIG = 'PROBER_CONFIG';

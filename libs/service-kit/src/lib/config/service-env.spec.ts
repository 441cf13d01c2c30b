import { IsString } from 'class-validator';
import { ConfigError, loadConfig, ServiceEnv } from './service-env';
import { monitoringOptions } from './monitoring-options';

class TestEnv extends ServiceEnv {
  @IsString() EXTRA = 'default-extra';
}

const base = { SERVICE_NAME: 'content-engine', PORT: '8002' };

describe('loadConfig', () => {
  it('applies defaults and converts types', () => {
    const config = loadConfig(TestEnv, base);
    expect(config).toMatchObject({ SERVICE_NAME: 'content-engine', PORT: 8002, HEALTH_CHECK_INTERVAL: '30s', METRICS_ENABLED: 'true', EXTRA: 'default-extra' });
  });

  it('lets the environment override the service defaults', () => {
    expect(loadConfig(TestEnv, { PORT: '9000' }, base).PORT).toBe(9000);
  });

  it.each([
    ['PORT', 'eighty', 'PORT must be an integer'],
    ['PORT', '70000', 'PORT'],
    ['HEALTH_CHECK_INTERVAL', '30 seconds', 'HEALTH_CHECK_INTERVAL must be a duration such as 500ms, 30s or 2m'],
    ['METRICS_ENABLED', 'yes', 'METRICS_ENABLED must be true or false'],
    ['AUDIT_ENABLED', '1', 'AUDIT_ENABLED must be true or false'],
    ['SERVICE_VERSION', 'v1', 'SERVICE_VERSION must be a semantic version'],
    ['LOG_LEVEL', 'loud', 'LOG_LEVEL must be one of'],
    ['MONITORING_TOKEN', 'short', 'MONITORING_TOKEN must be at least 16 characters'],
    ['RATE_LIMIT_MAX', 'lots', 'RATE_LIMIT_MAX must be a whole number (0 turns rate limiting off)'],
    ['RATE_LIMIT_WINDOW', '0s', 'RATE_LIMIT_WINDOW must be a positive duration'],
    ['SHUTDOWN_DRAIN_DELAY', 'soon', 'SHUTDOWN_DRAIN_DELAY must be a duration such as 0s, 500ms or 5s'],
    ['SHUTDOWN_GRACE_PERIOD', '0s', 'SHUTDOWN_GRACE_PERIOD must be a positive duration'],
  ])('rejects %s=%s with a message naming the variable and its form', (name, value, message) => {
    expect(() => loadConfig(TestEnv, { ...base, [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig(TestEnv, { ...base, [name]: value })).toThrow(new RegExp(`${name}=.*${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });

  it('refuses METRICS_REQUIRE_TOKEN without a token', () => {
    expect(() => loadConfig(TestEnv, { ...base, METRICS_REQUIRE_TOKEN: 'true' })).toThrow(/METRICS_REQUIRE_TOKEN="true": needs MONITORING_TOKEN to be set/);
  });

  it('refuses a drain delay that does not end before the grace period, and accepts no drain at all', () => {
    expect(() => loadConfig(TestEnv, { ...base, SHUTDOWN_DRAIN_DELAY: '30s', SHUTDOWN_GRACE_PERIOD: '25s' })).toThrow(/SHUTDOWN_DRAIN_DELAY="30s": must be shorter than SHUTDOWN_GRACE_PERIOD \(25s\)/);
    expect(loadConfig(TestEnv, { ...base, SHUTDOWN_DRAIN_DELAY: '0s', RATE_LIMIT_MAX: '0' })).toMatchObject({ SHUTDOWN_DRAIN_DELAY: '0s', RATE_LIMIT_MAX: 0 });
  });

  it('refuses fault injection in production', () => {
    expect(() => loadConfig(TestEnv, { ...base, FAULT_INJECTION_ENABLED: 'true', NODE_ENV: 'production' })).toThrow(/FAULT_INJECTION_ENABLED="true": fault injection is refused when NODE_ENV=production/);
    expect(loadConfig(TestEnv, { ...base, FAULT_INJECTION_ENABLED: 'true', NODE_ENV: 'development' }).FAULT_INJECTION_ENABLED).toBe('true');
  });

  it('derives the monitoring options, with the SQLite store under DATA_DIR by default', () => {
    const config = loadConfig(TestEnv, { ...base, HEALTH_CHECK_INTERVAL: '500ms', AUDIT_ENABLED: 'false', DATA_DIR: '/tmp/x' });
    expect(monitoringOptions(config, [])).toMatchObject({
      serviceName: 'content-engine',
      healthCheckIntervalMs: 500,
      metricsEnabled: true,
      auditEnabled: false,
      auditDatabase: '/tmp/x/content-engine/audit.db',
    });
  });
});

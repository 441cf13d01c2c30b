import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength } from 'class-validator';
import { Type } from 'class-transformer';
import { parseDuration } from '@personai/monitoring';
import { ConfigError, loadConfig, ServiceEnv } from '@personai/service-kit';
import { SERVICE_MANIFEST } from '@personai/contracts';
import { MaintenanceWindow, parseMaintenance } from '../app/probes/maintenance';

const DURATION = /^\d*[1-9]\d*(ms|s|m|h)$/;

/** service-prober's environment: the shared variables plus what it probes, how often and when not. */
export class ServiceProberEnv extends ServiceEnv {
  /** `name=url,…`; by default every service of the manifest on 127.0.0.1 at its default port (`npm start`). */
  @IsString() @MinLength(1)
  PROBE_TARGETS = SERVICE_MANIFEST.services.map((s) => `${s.name}=http://127.0.0.1:${s.port}`).join(',');

  @Matches(DURATION, { message: 'PROBE_INTERVAL must be a positive duration such as 30s' })
  PROBE_INTERVAL = '30s';

  @Matches(DURATION, { message: 'PROBE_TIMEOUT must be a positive duration such as 5s' })
  PROBE_TIMEOUT = '5s';

  /** The latency budget of a target's /health (the contract's 500 ms). */
  @Matches(DURATION, { message: 'PROBE_HEALTH_BUDGET must be a positive duration such as 500ms' })
  PROBE_HEALTH_BUDGET = '500ms';

  @Type(() => Number) @IsInt({ message: 'PROBE_FAILURE_THRESHOLD must be an integer from 1 to 100' }) @Min(1) @Max(100)
  PROBE_FAILURE_THRESHOLD = 3;

  @Type(() => Number) @IsInt({ message: 'PROBE_SUCCESS_THRESHOLD must be an integer from 1 to 100' }) @Min(1) @Max(100)
  PROBE_SUCCESS_THRESHOLD = 2;

  /** `target|*=window;…`, a window being `<ISO start>/<ISO end>` or `<day>[-<day>] HH:MM-HH:MM` (UTC). */
  @IsOptional() @IsString()
  PROBE_MAINTENANCE?: string;

  /** The account the synthetic brief runs in (its messages go to that account's channels). */
  @IsString() @Matches(/^[\w.-]{1,64}$/, { message: 'PROBE_BRIEF_USER must be 1 to 64 letters, digits, dots, dashes or underscores' })
  PROBE_BRIEF_USER = 'probe';

  @IsIn(['email', 'slack', 'sms'], { message: 'PROBE_BRIEF_CHANNEL must be email, slack or sms' })
  PROBE_BRIEF_CHANNEL = 'email';

  @Matches(DURATION, { message: 'PROBE_BRIEF_TIMEOUT must be a positive duration such as 60s' })
  PROBE_BRIEF_TIMEOUT = '60s';

  /** How often the synthetic brief runs: each one delivers a real message to the probe account. */
  @Matches(DURATION, { message: 'PROBE_BRIEF_INTERVAL must be a positive duration such as 5m' })
  PROBE_BRIEF_INTERVAL = '5m';

  /** The objective the status page measures each target's error budget against (the probe SLO of deploy/slo). */
  @Type(() => Number) @Min(50) @Max(99.999)
  PROBE_OBJECTIVE = 99.5;

  /** Sent as a bearer token to the targets' /audit (their MONITORING_TOKEN). */
  @IsOptional() @IsString() @MinLength(16)
  PROBE_TARGET_TOKEN?: string;

  // Parsed once by loadServiceProberConfig.
  targets!: { name: string; url: string }[];
  intervalMs!: number;
  timeoutMs!: number;
  healthBudgetMs!: number;
  briefTimeoutMs!: number;
  briefIntervalMs!: number;
  maintenance!: MaintenanceWindow[];
}

export function loadServiceProberConfig(env: NodeJS.ProcessEnv = process.env): ServiceProberEnv {
  const config = loadConfig(ServiceProberEnv, env, { SERVICE_NAME: 'service-prober', PORT: '8020' });
  const problems: string[] = [];
  config.targets = config.PROBE_TARGETS.split(',').map((entry) => {
    const [name, url] = entry.split('=').map((s) => s.trim());
    if (!/^[a-z][a-z0-9-]*$/.test(name ?? '') || !/^https?:\/\/[^\s]+$/.test(url ?? '')) problems.push(`  PROBE_TARGETS: ${JSON.stringify(entry)} is not name=http(s)://host:port`);
    return { name, url: (url ?? '').replace(/\/$/, '') };
  });
  try {
    config.maintenance = parseMaintenance(config.PROBE_MAINTENANCE ?? '');
  } catch (e) {
    problems.push(`  PROBE_MAINTENANCE=${JSON.stringify(config.PROBE_MAINTENANCE)}: ${(e as Error).message}`);
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n${problems.join('\n')}`);
  config.intervalMs = parseDuration(config.PROBE_INTERVAL) as number;
  config.timeoutMs = parseDuration(config.PROBE_TIMEOUT) as number;
  config.healthBudgetMs = parseDuration(config.PROBE_HEALTH_BUDGET) as number;
  config.briefTimeoutMs = parseDuration(config.PROBE_BRIEF_TIMEOUT) as number;
  config.briefIntervalMs = parseDuration(config.PROBE_BRIEF_INTERVAL) as number;
  return config;
}

import { Type } from 'class-transformer';
import { IsInt, IsString, Matches, Max, Min } from 'class-validator';
import { parseDuration } from '@personai/monitoring';
import { ConfigError, loadConfig, ServiceEnv } from '@personai/service-kit';

/** audit-collector's environment: the shared variables (CONTRACT.md §3) plus the stream it collects. */
export class AuditCollectorEnv extends ServiceEnv {
  /** The NATS server of the audit stream the services publish to (their AUDIT_STREAM_URL). */
  @Matches(/^(nats|tls):\/\/[^\s]+$/, { message: 'COLLECTOR_STREAM_URL must be a nats://host:port URL' })
  COLLECTOR_STREAM_URL = 'nats://127.0.0.1:4222';

  /** The JetStream stream (the services' AUDIT_STREAM_NAME). */
  @IsString() @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'COLLECTOR_STREAM_NAME must be 1 to 64 letters, digits, dashes or underscores' })
  COLLECTOR_STREAM_NAME = 'AUDIT';

  /** The durable consumer: replicas of the collector with one name share the work; each name gets every event. */
  @IsString() @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'COLLECTOR_CONSUMER must be 1 to 64 letters, digits, dashes or underscores' })
  COLLECTOR_CONSUMER = 'audit-collector';

  /** Messages stored per transaction at most, and the consumer's unacknowledged messages at most. */
  @Type(() => Number) @IsInt({ message: 'COLLECTOR_BATCH must be an integer from 1 to 10000' }) @Min(1) @Max(10_000)
  COLLECTOR_BATCH = 500;

  /** How long the stream waits for an acknowledgement before delivering a message again. */
  @Matches(/^\d*[1-9]\d*(ms|s|m)$/, { message: 'COLLECTOR_ACK_WAIT must be a positive duration such as 10s' })
  COLLECTOR_ACK_WAIT = '10s';

  // Parsed once by loadAuditCollectorConfig.
  ackWaitMs!: number;
}

export function loadAuditCollectorConfig(env: NodeJS.ProcessEnv = process.env): AuditCollectorEnv {
  const config = loadConfig(AuditCollectorEnv, env, { SERVICE_NAME: 'audit-collector', PORT: '8030' });
  const problems: string[] = [];
  if (config.AUDIT_STREAM_URL) problems.push('  AUDIT_STREAM_URL: the audit collector reads the stream (COLLECTOR_STREAM_URL); it does not publish its own events to it');
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n${problems.join('\n')}`);
  config.ackWaitMs = parseDuration(config.COLLECTOR_ACK_WAIT) ?? 10_000;
  return config;
}

import { createPublicKey, KeyObject } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
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

  /**
   * A directory of the services' checkpoint public keys, one `<service>.pem` each (SPKI PEM, as the service's
   * GET /audit/checkpoints/public-key serves it): /audit/verify checks those services' signed checkpoints.
   */
  @IsString()
  COLLECTOR_PUBLIC_KEYS_DIR = '';

  // Parsed once by loadAuditCollectorConfig.
  ackWaitMs!: number;
  /** The keys of COLLECTOR_PUBLIC_KEYS_DIR, by service name. */
  publicKeys!: ReadonlyMap<string, KeyObject>;
}

/** The Ed25519 public keys of `dir`, by service name (the file name without `.pem`); a file that is not one is a problem named. */
export function readPublicKeys(dir: string, problems: string[]): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  if (!dir) return keys;
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.pem'));
  } catch (err) {
    problems.push(`  COLLECTOR_PUBLIC_KEYS_DIR: cannot read ${dir} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    return keys;
  }
  for (const file of files) {
    try {
      const key = createPublicKey(readFileSync(join(dir, file)));
      if (key.asymmetricKeyType !== 'ed25519') throw new Error(`a ${key.asymmetricKeyType} key`);
      keys.set(file.slice(0, -'.pem'.length), key);
    } catch (err) {
      problems.push(`  COLLECTOR_PUBLIC_KEYS_DIR: ${file} is not an Ed25519 public key in PEM (${err instanceof Error ? err.message : String(err)})`);
    }
  }
  return keys;
}

export function loadAuditCollectorConfig(env: NodeJS.ProcessEnv = process.env): AuditCollectorEnv {
  const config = loadConfig(AuditCollectorEnv, env, { SERVICE_NAME: 'audit-collector', PORT: '8030' });
  const problems: string[] = [];
  if (config.AUDIT_STREAM_URL) problems.push('  AUDIT_STREAM_URL: the audit collector reads the stream (COLLECTOR_STREAM_URL); it does not publish its own events to it');
  // Refused rather than ignored: a retention that prunes nothing would be a setting that lies.
  if (config.AUDIT_RETENTION) problems.push('  AUDIT_RETENTION: the audit collector keeps every event it receives (it has no retention yet); unset it');
  config.publicKeys = readPublicKeys(config.COLLECTOR_PUBLIC_KEYS_DIR, problems);
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n${problems.join('\n')}`);
  config.ackWaitMs = parseDuration(config.COLLECTOR_ACK_WAIT) ?? 10_000;
  return config;
}

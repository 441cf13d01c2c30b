import { Type } from 'class-transformer';
import { IsIn, IsInt, IsNumber, IsOptional, IsString, Matches, Max, Min } from 'class-validator';

export const UPSTREAMS = ['gmail', 'slack', 'quickbooks', 'salesforce', 'openai', 'elevenlabs', 'sms'] as const;
export const FAULT_MODES = ['down', 'error', 'latency', 'timeout', 'reset', 'expired_token', 'flaky', 'malformed'] as const;
export type Upstream = (typeof UPSTREAMS)[number];
export type FaultMode = (typeof FAULT_MODES)[number];

/** Body of POST /__faults (CONTRACT.md §7). */
export class CreateFaultDto {
  @IsIn(UPSTREAMS, { message: `target must be one of ${UPSTREAMS.join(', ')}` })
  target!: Upstream;

  @IsIn(FAULT_MODES, { message: `mode must be one of ${FAULT_MODES.join(', ')}` })
  mode!: FaultMode;

  /** Only requests with this method. */
  @IsOptional() @IsIn(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])
  method?: string;

  /** Only requests whose path (after /<target>) starts with this, e.g. `/health` or `/v1/chat`. */
  @IsOptional() @IsString() @Matches(/^\/[\w./:-]*$/, { message: 'path must start with / and contain no spaces or query' })
  path?: string;

  /** `error`: the HTTP status answered. @default 500 */
  @IsOptional() @Type(() => Number) @IsInt() @Min(400) @Max(599)
  status?: number;

  /** `error`: share of requests failed; `flaky`: share of requests that succeed. @default 1 for error, 0.5 for flaky */
  @IsOptional() @Type(() => Number) @IsNumber() @Min(0) @Max(1)
  rate?: number;

  /** `latency`: delay added before answering. @default 1000 */
  @IsOptional() @Type(() => Number) @IsInt() @Min(0) @Max(120_000)
  latency_ms?: number;

  /** `latency`: up to this much more, uniformly at random. @default 0 */
  @IsOptional() @Type(() => Number) @IsInt() @Min(0) @Max(60_000)
  jitter_ms?: number;

  /** Affects only the next `count` matching requests, then disappears. */
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1_000_000)
  count?: number;

  /** Disappears after this many seconds. */
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(86_400)
  ttl_s?: number;

  /** Seed of this fault's random choices. @default FAKE_SEED */
  @IsOptional() @Type(() => Number) @IsInt() @Min(0) @Max(2 ** 31)
  seed?: number;
}

import { Inject, Injectable } from '@nestjs/common';
import { SERVICE_CONFIG } from '@personai/service-kit';
import { randomUUID } from 'node:crypto';
import type { FakeUpstreamsEnv } from '../../config/fake-upstreams.config';
import { CreateFaultDto, FaultMode, UPSTREAMS, Upstream } from './fault.dto';
import { seededRandom, seedFor } from './seeded-random';

export interface Fault extends CreateFaultDto {
  id: string;
  created_at: string;
  expires_at?: string;
  /** Requests this fault has answered so far. */
  hits: number;
}

/** What the hook must do with one request. */
export type FaultAction =
  | { kind: 'pass' }
  | { kind: 'delay'; ms: number }
  | { kind: 'respond'; status: number; body: string; contentType: string }
  | { kind: 'hang' }
  | { kind: 'reset' };

interface ActiveFault {
  fault: Fault;
  random: () => number;
  remaining?: number;
  expiresAt?: number;
}

const json = (status: number, body: unknown): FaultAction => ({ kind: 'respond', status, body: JSON.stringify(body), contentType: 'application/json' });

/** The active faults, and the decision for each request (first matching fault wins). */
@Injectable()
export class FaultsService {
  private active: ActiveFault[] = [];

  constructor(@Inject(SERVICE_CONFIG) private readonly config: FakeUpstreamsEnv) {
    if (config.FAKE_PROFILE === 'realistic') {
      // The seed's demo profile: each dependency's health answers 75% of the time.
      for (const target of UPSTREAMS) this.add({ target, mode: 'flaky', rate: 0.75, path: '/health' });
    }
  }

  add(dto: CreateFaultDto): Fault {
    const fault: Fault = {
      ...dto,
      id: `fault_${randomUUID()}`,
      created_at: new Date().toISOString(),
      ...(dto.ttl_s ? { expires_at: new Date(Date.now() + dto.ttl_s * 1000).toISOString() } : {}),
      hits: 0,
    };
    this.active.push({ fault, random: seededRandom(seedFor(dto.seed ?? this.config.FAKE_SEED, dto.target)), remaining: dto.count, expiresAt: dto.ttl_s ? Date.now() + dto.ttl_s * 1000 : undefined });
    return fault;
  }

  list(): Fault[] {
    this.expire();
    return this.active.map((a) => a.fault);
  }

  remove(id: string): boolean {
    const before = this.active.length;
    this.active = this.active.filter((a) => a.fault.id !== id);
    return this.active.length < before;
  }

  clear(): void {
    this.active = [];
  }

  /** Decides what happens to a request for `/<target><rest>`. */
  decide(method: string, url: string, authorization: string | undefined): FaultAction {
    if (this.active.length === 0) return { kind: 'pass' };
    this.expire();
    const [, target = '', ...rest] = url.split('?')[0].split('/');
    const path = `/${rest.join('/')}`;
    const match = this.active.find((a) => a.fault.target === target && (!a.fault.method || a.fault.method === method) && (!a.fault.path || path.startsWith(a.fault.path)) && appliesTo(a.fault.mode, authorization));
    if (!match) return { kind: 'pass' };
    match.fault.hits += 1;
    if (match.remaining !== undefined && --match.remaining <= 0) this.remove(match.fault.id);
    return actionFor(match.fault, match.random, target as Upstream);
  }

  private expire(): void {
    const now = Date.now();
    this.active = this.active.filter((a) => a.expiresAt === undefined || a.expiresAt > now);
  }
}

/** An expired token only matters to calls that carry one (health paths are unauthenticated). */
function appliesTo(mode: FaultMode, authorization: string | undefined): boolean {
  return mode !== 'expired_token' || Boolean(authorization);
}

function actionFor(fault: Fault, random: () => number, target: Upstream): FaultAction {
  switch (fault.mode) {
    case 'down':
      return json(503, { error: 'service_unavailable', message: `${target} is down (injected fault)` });
    case 'error':
      return random() < (fault.rate ?? 1) ? json(fault.status ?? 500, { error: 'upstream_error', message: `injected HTTP ${fault.status ?? 500}` }) : { kind: 'pass' };
    case 'flaky':
      return random() < (fault.rate ?? 0.5) ? { kind: 'pass' } : json(503, { error: 'service_unavailable', message: 'flaky (injected fault)' });
    case 'latency':
      return { kind: 'delay', ms: (fault.latency_ms ?? 1000) + Math.floor(random() * ((fault.jitter_ms ?? 0) + 1)) };
    case 'timeout':
      return { kind: 'hang' };
    case 'reset':
      return { kind: 'reset' };
    case 'expired_token':
      return json(401, { error: 'invalid_token', error_description: 'The access token expired' });
    case 'malformed':
      return { kind: 'respond', status: 200, body: '{"truncated": [1, 2', contentType: 'application/json' };
  }
}

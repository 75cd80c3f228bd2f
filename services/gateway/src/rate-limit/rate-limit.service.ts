import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ErrorCode } from '@neonpro/contracts';
import { HealthRegistry } from '@neonpro/observability';
import type { FastifyReply } from 'fastify';
import { PinoLogger } from 'nestjs-pino';
import { ProblemException } from '../common/problem.js';
import { GATEWAY_CONFIG, type GatewayRuntimeConfig } from '../gateway.config.js';
import { RedisConnections } from '../redis/redis-connections.service.js';
import { GatewayMetrics } from '../metrics/gateway-metrics.service.js';
import type { RateLimitTierName } from './rate-limit-tier.decorator.js';
import {
  MemoryRateLimitStore,
  type RateLimitStore,
  RateLimitStoreUnavailableError,
  RedisRateLimitStore,
  type WindowState,
} from './rate-limit.store.js';

export interface TierLimit {
  limit: number;
  windowMs: number;
}

/** The rate-limit tracker of an authenticated user: per user, whatever address they come from. */
export function userTracker(userId: string): string {
  return `user:${userId}`;
}

export function tierLimits(config: GatewayRuntimeConfig): Record<RateLimitTierName, TierLimit> {
  return {
    healthcare: { limit: config.RATE_LIMIT_HEALTHCARE_LIMIT, windowMs: config.RATE_LIMIT_HEALTHCARE_WINDOW_S * 1000 },
    ai: { limit: config.RATE_LIMIT_AI_LIMIT, windowMs: config.RATE_LIMIT_AI_WINDOW_S * 1000 },
    auth: { limit: config.RATE_LIMIT_AUTH_LIMIT, windowMs: config.RATE_LIMIT_AUTH_WINDOW_S * 1000 },
    default: { limit: config.RATE_LIMIT_DEFAULT_LIMIT, windowMs: config.RATE_LIMIT_DEFAULT_WINDOW_S * 1000 },
  };
}

/**
 * Owns the counters (Redis when REDIS_URL is set, else memory), the fail mode when Redis is
 * down, and the wire format of limits (IETF RateLimit fields, legacy X-RateLimit-*, 429 problem).
 */
@Injectable()
export class RateLimitService implements OnModuleInit, OnApplicationShutdown {
  readonly store: RateLimitStore;
  readonly tiers: Record<RateLimitTierName, TierLimit>;
  private storeDown = false;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayRuntimeConfig,
    private readonly metrics: GatewayMetrics,
    private readonly logger: PinoLogger,
    health: HealthRegistry,
    connections: RedisConnections,
  ) {
    this.tiers = tierLimits(config);
    const redis = connections.commands((err) => this.markDown(err));
    this.store = redis ? new RedisRateLimitStore(redis, config.RATE_LIMIT_LEASE_MAX) : new MemoryRateLimitStore();
    health.register({
      name: 'rate_limit_store',
      // Redis is shared by every replica: shown here, but never taking the replica out of service.
      affectsReadiness: false,
      check: () => {
        const connected = this.store instanceof RedisRateLimitStore ? this.store.ready : true;
        return {
          ok: connected,
          details: { kind: this.store.kind, connected, fail_mode: config.RATE_LIMIT_REDIS_FAIL_MODE },
        };
      },
    });
  }

  /** False when RATE_LIMIT_ENABLED=false: nothing is counted or refused. */
  get enabled(): boolean {
    return this.config.RATE_LIMIT_ENABLED;
  }

  /** Boot waits (bounded) for Redis, so the first requests are counted rather than failed open/closed. */
  async onModuleInit(): Promise<void> {
    if (!(this.store instanceof RedisRateLimitStore)) {
      return;
    }
    const bound = Math.max(2000, this.config.REDIS_COMMAND_TIMEOUT_MS * 4);
    if (await this.store.waitReady(bound)) {
      this.logger.info({ store: 'redis' }, 'rate-limit store connected');
    } else {
      this.markDown(new Error(`not connected after ${bound} ms`));
    }
  }

  key(scope: string, tracker: string): string {
    return `${this.config.RATE_LIMIT_KEY_PREFIX}${scope}:${tracker}`;
  }

  /**
   * Counts a hit; `undefined` means the store is down and the fail mode is open. With `limit`,
   * the Redis store may lease hits in batches (RATE_LIMIT_LEASE_MAX).
   */
  /** `hit` when the store can count it without I/O; `undefined` means call `hit` (nothing counted). */
  hitNow(key: string, windowMs: number, limit?: number): WindowState | undefined {
    return this.store.incrementNow(key, windowMs, limit);
  }

  async hit(key: string, windowMs: number, limit?: number): Promise<WindowState | undefined> {
    return this.guarded(() => this.store.increment(key, windowMs, limit));
  }

  async peek(key: string): Promise<WindowState | undefined> {
    return this.guarded(() => this.store.peek(key));
  }

  /** The IETF draft fields plus the legacy X-RateLimit-* trio, on every limited response. */
  setHeaders(reply: FastifyReply, tier: string, limit: TierLimit, state: WindowState): void {
    const remaining = Math.max(0, limit.limit - state.hits);
    const reset = Math.ceil(state.resetMs / 1000);
    void reply
      .header('RateLimit-Policy', `"${tier}";q=${limit.limit};w=${Math.round(limit.windowMs / 1000)}`)
      .header('RateLimit', `"${tier}";r=${remaining};t=${reset}`)
      .header('X-RateLimit-Limit', String(limit.limit))
      .header('X-RateLimit-Remaining', String(remaining))
      .header('X-RateLimit-Reset', String(reset));
  }

  /** A counted hit's answer: its headers on `reply`, and past the limit the 429 problem, thrown. */
  answer(reply: FastifyReply, tier: RateLimitTierName, limit: TierLimit, state: WindowState): void {
    this.setHeaders(reply, tier, limit, state);
    if (state.hits > limit.limit) {
      throw this.rejection(tier, state);
    }
  }

  /** The 429 problem for a tier; also counts the rejection. */
  rejection(tier: RateLimitTierName, state: WindowState, detail?: string): ProblemException {
    this.metrics.rateLimitRejections.inc({ tier });
    return new ProblemException(429, ErrorCode.RateLimited, detail ?? 'Too many requests; retry later.', {
      retryAfter: Math.max(1, Math.ceil(state.resetMs / 1000)),
      extensions: { tier },
    });
  }

  private async guarded(op: () => Promise<WindowState>): Promise<WindowState | undefined> {
    try {
      const state = await op();
      if (this.storeDown) {
        this.storeDown = false;
        this.logger.info({ store: this.store.kind }, 'rate-limit store recovered');
      }
      return state;
    } catch (err) {
      if (!(err instanceof RateLimitStoreUnavailableError)) {
        throw err;
      }
      const mode = this.config.RATE_LIMIT_REDIS_FAIL_MODE;
      this.metrics.rateLimitStoreErrors.inc({ fail_mode: mode });
      this.markDown(err);
      if (mode === 'open') {
        return undefined;
      }
      throw new ProblemException(
        503,
        ErrorCode.UpstreamUnavailable,
        'Request limits cannot be checked right now; retry shortly.',
        { retryAfter: 1 },
      );
    }
  }

  private markDown(err: Error): void {
    if (this.storeDown) {
      return;
    }
    this.storeDown = true;
    // One line per outage (not per request); the metric counts every affected request.
    this.logger.warn(
      { store: this.store.kind, fail_mode: this.config.RATE_LIMIT_REDIS_FAIL_MODE, err_message: err.message },
      `rate-limit store unavailable: failing ${this.config.RATE_LIMIT_REDIS_FAIL_MODE}`,
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}

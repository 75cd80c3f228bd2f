import { Inject, Injectable } from '@nestjs/common';
import type { Principal } from '@neonpro/auth';
import { ErrorCode } from '@neonpro/contracts';
import { Database, type MonthUsage } from '@neonpro/database';
import { PolicyRegistry } from '@neonpro/resilience';
import type { FastifyReply } from 'fastify';
import { PinoLogger } from 'nestjs-pino';
import { ProblemException } from '../common/problem.js';
import { SingleFlight } from '../common/single-flight.js';
import { GATEWAY_CONFIG, type GatewayRuntimeConfig } from '../gateway.config.js';
import { GatewayMetrics } from '../metrics/gateway-metrics.service.js';
import type { PerUserTier, RateLimitTierName } from '../rate-limit/rate-limit-tier.decorator.js';
import { RateLimitService, type TierLimit, userTracker } from '../rate-limit/rate-limit.service.js';
import { POSTGRES_POLICY } from '../resilience/gateway-policies.js';
import type { EffectivePlan } from './plan.js';
import { PlansService } from './plans.service.js';

const MAX_ENTRIES = 10000;

/** A clinic's monthly token budget as of now. */
export interface BudgetStatus {
  budget: number;
  used: number;
  remaining: number;
  resets_at: string;
  /** Seconds until the month turns in the clinic's time zone. */
  reset_s: number;
}

export interface CountAiOptions {
  /** Sets the headers (and, for admins, the budget headers) on this reply. */
  reply?: FastifyReply;
  /** A new chat: refused with `quota_exceeded` once the clinic's monthly budget is spent. */
  chargeBudget: boolean;
}

/**
 * The limits that come from a clinic's plan: per-user tier limits, the per-clinic aggregate of
 * the `ai` tier and the monthly AI token budget. REST (RateLimitGuard) and Socket.IO
 * (ChatRunService) both count a chat through {@link countAi}, with the same keys.
 */
@Injectable()
export class QuotaService {
  private readonly usage = new Map<string, { value: MonthUsage; expires: number }>();
  private readonly refreshing = new SingleFlight<string, MonthUsage | undefined>();

  constructor(
    private readonly plans: PlansService,
    private readonly rateLimit: RateLimitService,
    private readonly metrics: GatewayMetrics,
    private readonly policies: PolicyRegistry,
    private readonly logger: PinoLogger,
    @Inject(Database) private readonly db: Database,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayRuntimeConfig,
  ) {}

  /** `tierLimit` when the clinic's plan is cached and current; `undefined` means call `tierLimit`. */
  tierLimitNow(clinicId: string, tier: RateLimitTierName): TierLimit | undefined {
    return this.plans.cachedFor(clinicId)?.tiers[tier];
  }

  /**
   * A known user's request in a per-user tier other than `ai` (whose clinic aggregate `countAi`
   * counts), counted without waiting: true once counted (headers set on `reply`; throws the 429
   * past the limit), false when the clinic's plan is not cached or the store cannot answer now,
   * and nothing was counted. RateLimitGuard and the edge's answered routes count through here.
   */
  countNow(principal: Principal, tier: PerUserTier, reply: FastifyReply): boolean {
    if (!this.rateLimit.enabled) {
      return true;
    }
    const limit = this.tierLimitNow(principal.clinic_id, tier);
    if (!limit) {
      return false;
    }
    const state = this.rateLimit.hitNow(this.userKey(tier, principal), limit.windowMs, limit.limit);
    if (!state) {
      return false;
    }
    this.rateLimit.answer(reply, tier, limit, state);
    return true;
  }

  /**
   * `countNow` when it must wait: the clinic's plan read (cached after), the hit counted in the
   * store. Sets the headers; throws the 429. With the store down and failing open nothing is set
   * (the service logged and counted it); failing closed, the store's 503 is thrown.
   */
  async count(principal: Principal, tier: PerUserTier, reply: FastifyReply): Promise<void> {
    if (!this.rateLimit.enabled) {
      return;
    }
    const limit = await this.tierLimit(principal.clinic_id, tier);
    const state = await this.rateLimit.hit(this.userKey(tier, principal), limit.windowMs, limit.limit);
    if (state) {
      this.rateLimit.answer(reply, tier, limit, state);
    }
  }

  /** A user's counter in a tier: the key RateLimitGuard makes for them (`userTracker`). */
  private userKey(tier: RateLimitTierName, principal: Principal): string {
    return this.rateLimit.key(tier, userTracker(principal.user_id));
  }

  /** The per-user limit of a tier for a user of this clinic. */
  async tierLimit(clinicId: string, tier: RateLimitTierName): Promise<TierLimit> {
    return (await this.plans.forClinic(clinicId)).tiers[tier];
  }

  /**
   * One `ai`-tier request of an authenticated user: the budget (new chats only), the user's
   * limit, then the clinic's aggregate. Throws the 429 problem; sets headers on `reply`.
   */
  async countAi(principal: Principal, opts: CountAiOptions): Promise<void> {
    if (!this.rateLimit.enabled) {
      return;
    }
    const plan = await this.plans.forClinic(principal.clinic_id);
    const budget = opts.chargeBudget ? await this.budget(plan) : undefined;
    if (budget) {
      if (opts.reply && principal.role === 'admin') {
        this.setBudgetHeaders(opts.reply, budget);
      }
      if (budget.remaining <= 0) {
        this.metrics.quotaRejections.inc({ tier: 'ai_tokens' });
        throw new ProblemException(
          429,
          ErrorCode.QuotaExceeded,
          "The clinic's monthly AI token budget is spent; it renews when the month turns.",
          { retryAfter: budget.reset_s, extensions: { tier: 'ai_tokens', resets_at: budget.resets_at } },
        );
      }
    }
    const user = plan.tiers.ai;
    const state = await this.rateLimit.hit(this.userKey('ai', principal), user.windowMs, user.limit);
    if (!state) {
      return;
    } // store down, failing open
    if (opts.reply) {
      this.rateLimit.setHeaders(opts.reply, 'ai', user, state);
      // After the tier's fields, which setHeaders replaces: the budget is a second list item.
      if (budget && principal.role === 'admin') {
        this.setBudgetHeaders(opts.reply, budget);
      }
    }
    if (state.hits > user.limit) {
      throw this.rateLimit.rejection('ai', state);
    }
    const clinic = plan.tiers.ai_clinic;
    const shared = await this.rateLimit.hit(
      this.rateLimit.key('ai_clinic', `clinic:${principal.clinic_id}`),
      clinic.windowMs,
      clinic.limit,
    );
    if (shared && shared.hits > clinic.limit) {
      this.metrics.quotaRejections.inc({ tier: 'ai_clinic' });
      throw new ProblemException(
        429,
        ErrorCode.RateLimited,
        'Too many assistant requests from this clinic; retry later.',
        {
          retryAfter: Math.max(1, Math.ceil(shared.resetMs / 1000)),
          extensions: { tier: 'ai_clinic' },
        },
      );
    }
  }

  /** The clinic's budget now (undefined: no budget in its plan). Cached USAGE_CACHE_TTL_MS per replica. */
  async budget(plan: EffectivePlan): Promise<BudgetStatus | undefined> {
    if (plan.monthly_ai_tokens <= 0) {
      return undefined;
    }
    const month = await this.monthUsage(plan.clinic_id);
    if (!month) {
      return undefined;
    } // Postgres unreadable: never block chats on the bookkeeping
    const resetMs = Date.parse(month.resets_at) - Date.now();
    return {
      budget: plan.monthly_ai_tokens,
      used: month.tokens,
      remaining: Math.max(0, plan.monthly_ai_tokens - month.tokens),
      resets_at: month.resets_at,
      reset_s: Math.max(1, Math.ceil(resetMs / 1000)),
    };
  }

  /** Adds the budget to the IETF RateLimit fields already on the reply (one list item per policy). */
  setBudgetHeaders(reply: FastifyReply, b: BudgetStatus): void {
    const append = (name: string, item: string): void => {
      const prev = reply.getHeader(name);
      void reply.header(name, prev ? `${String(prev)}, ${item}` : item);
    };
    append('RateLimit-Policy', `"ai_tokens";q=${b.budget};w=${b.reset_s}`);
    append('RateLimit', `"ai_tokens";r=${b.remaining};t=${b.reset_s}`);
  }

  private async monthUsage(clinicId: string): Promise<MonthUsage | undefined> {
    const hit = this.usage.get(clinicId);
    const now = Date.now();
    const current = hit && Date.parse(hit.value.resets_at) > now ? hit : undefined;
    if (current && current.expires > now) {
      return current.value;
    }
    const pending = this.refreshing.run(clinicId, () => this.readMonthUsage(clinicId, current?.value));
    // Same month, only stale: answer with it while one refresh runs (Postgres never adds latency).
    return current ? current.value : pending;
  }

  private async readMonthUsage(clinicId: string, stale: MonthUsage | undefined): Promise<MonthUsage | undefined> {
    const now = Date.now();
    try {
      const value = await this.policies
        .get(POSTGRES_POLICY)
        .execute(() => this.db.asPlanReader((r) => r.usage.month(clinicId)), { retry: true });
      if (this.config.USAGE_CACHE_TTL_MS > 0) {
        if (this.usage.size >= MAX_ENTRIES) {
          this.usage.delete(this.usage.keys().next().value!);
        }
        this.usage.set(clinicId, { value, expires: now + this.config.USAGE_CACHE_TTL_MS });
      }
      return value;
    } catch (err) {
      this.logger.warn({ err_name: err instanceof Error ? err.name : typeof err }, 'month usage unreadable');
      return stale;
    }
  }
}

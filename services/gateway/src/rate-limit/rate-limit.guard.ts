import { type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { PolicyRegistry } from '@neonpro/resilience';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  normalizeIp,
  THROTTLER_KEY_GENERATOR,
  THROTTLER_LIMIT,
  THROTTLER_SKIP,
  THROTTLER_TRACKER,
  THROTTLER_TTL,
  ThrottlerGuard,
  type ThrottlerModuleOptions,
  type ThrottlerOptions,
  type ThrottlerRequest,
  type ThrottlerStorage,
} from './throttler.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type RateLimitTierName, tierOfRoute } from './rate-limit-tier.decorator.js';
import { RateLimitService, type TierLimit, userTracker } from './rate-limit.service.js';
import { CHARGES_AI_BUDGET_KEY } from '../plans/ai-budget.decorator.js';
import { QuotaService } from '../plans/quota.service.js';
import { agentRunRefusal } from '../common/upstream-problem.js';
import { AGENT_POLICY } from '../resilience/gateway-policies.js';
import { failsFast } from '../edge/agent-fail-fast.js';

/** Paths that are never limited (probes, scrapers, docs), whatever their controller says. */
const UNLIMITED_PATHS = /^\/(health|metrics|docs)(\/|$)/;

/** What `canActivate` answers when it let the request through without waiting (shared, settled). */
const ALLOWED = Promise.resolve(true);

/** One throttler's resolved options for a handler (ThrottlerRequest without the context). */
type ThrottlerPlan = Omit<ThrottlerRequest, 'context'>;

interface Principal {
  user_id?: string;
}

export function tierOf(context: ExecutionContext): RateLimitTierName {
  return tierOfRoute(context.getHandler(), context.getClass());
}

/** One named throttler per counted tier; each one only looks at routes of its own tier. */
export function namedThrottlers(tiers: Record<RateLimitTierName, TierLimit>): ThrottlerOptions[] {
  // `auth` counts failed logins only, in the login handler (AuthAttemptLimiter), not per request.
  return (['healthcare', 'ai', 'default'] as const).map((name) => ({
    name,
    limit: tiers[name].limit,
    ttl: tiers[name].windowMs,
    skipIf: (ctx: ExecutionContext) => tierOf(ctx) !== name,
  }));
}

/**
 * @nestjs/throttler's guard with the project's semantics: tiers from `@RateLimitTier`, a tracker
 * per user id (else client IP, trusted-proxy aware), counters shared through RateLimitService,
 * RFC 9457 429s with Retry-After, and both IETF and legacy headers.
 * Runs after an authentication guard registered before it, so `request.principal` is known.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    private readonly rateLimit: RateLimitService,
    private readonly quotas: QuotaService,
    private readonly policies: PolicyRegistry,
  ) {
    super(options, storage, reflector);
  }

  /**
   * What @nestjs/throttler's `canActivate` works out per request (for each named throttler: the
   * skip metadata, `skipIf`, and limit/ttl overrides through the reflector and three awaits),
   * worked out once per handler: it depends on the handler's and class's metadata only. Values
   * given as functions of the context are not cacheable; such handlers take the library's path.
   */
  private readonly plans = new WeakMap<object, ThrottlerPlan[] | 'dynamic'>();

  override canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.skips(context)) {
      return ALLOWED;
    }
    const plan = this.planFor(context);
    if (plan === 'dynamic') {
      return super.canActivate(context);
    }
    // The common case needs no I/O (a known user, their clinic's plan cached, a leased hit or the
    // memory store): counted here without the library's chain of awaits, on a shared resolved
    // promise (the base class's signature rules out a plain boolean).
    for (let i = 0; i < plan.length; i++) {
      if (!this.countedNow(context, plan[i]!)) {
        return this.countRest(context, plan, i);
      }
    }
    return ALLOWED;
  }

  private async countRest(context: ExecutionContext, plan: ThrottlerPlan[], from: number): Promise<boolean> {
    for (const p of plan.slice(from)) {
      // handleRequest throws to refuse; a `false` would mean "deny" as in the library.
      if (!(await this.handleRequest({ context, ...p }))) {
        return false;
      }
    }
    return true;
  }

  /**
   * `handleRequest` for one throttler when it can be done without waiting: true once counted (and
   * headers set; throws the 429 past the limit), false when nothing was counted and the caller must
   * take `handleRequest`. Not for the `ai` tier of a known user (the clinic's aggregate and budget
   * are counted in QuotaService) nor for a route's own tracker.
   */
  private countedNow(context: ExecutionContext, p: ThrottlerPlan): boolean {
    const tier = (p.throttler.name ?? 'default') as RateLimitTierName;
    const http = context.switchToHttp();
    const req = http.getRequest<FastifyRequest>();
    const principal = req.principal;
    if (!this.keysAsCommon(p)) {
      return false;
    }
    if (principal) {
      return tier !== 'ai' && this.quotas.countNow(principal, tier, http.getResponse<FastifyReply>());
    }
    const state = this.rateLimit.hitNow(this.rateLimit.key(tier, trackerOf(req)), p.ttl, p.limit);
    if (!state) {
      return false;
    }
    this.rateLimit.answer(http.getResponse<FastifyReply>(), tier, { limit: p.limit, windowMs: p.ttl }, state);
    return true;
  }

  /** Whether a throttler keys hits as every tier does (per tier and tracker), which QuotaService's counts assume. */
  private keysAsCommon(p: Pick<ThrottlerPlan, 'getTracker' | 'generateKey'>): boolean {
    return p.getTracker === this.commonOptions.getTracker && p.generateKey === this.commonOptions.generateKey;
  }

  private planFor(context: ExecutionContext): ThrottlerPlan[] | 'dynamic' {
    const handler = context.getHandler();
    const known = this.plans.get(handler);
    if (known) {
      return known;
    }
    const targets = [handler, context.getClass()];
    const plan: ThrottlerPlan[] = [];
    let dynamic = false;
    for (const throttler of this.throttlers) {
      const name = throttler.name ?? 'default';
      // Our tiers' skipIf (namedThrottlers) reads the handler's metadata only, so it is cacheable too.
      const skipIf = throttler.skipIf ?? this.commonOptions.skipIf;
      if (this.reflector.getAllAndOverride<boolean>(THROTTLER_SKIP + name, targets) || skipIf?.(context)) {
        continue;
      }
      const limit = this.reflector.getAllAndOverride<unknown>(THROTTLER_LIMIT + name, targets) ?? throttler.limit;
      const ttl = this.reflector.getAllAndOverride<unknown>(THROTTLER_TTL + name, targets) ?? throttler.ttl;
      const getTracker =
        this.reflector.getAllAndOverride<ThrottlerPlan['getTracker'] | undefined>(THROTTLER_TRACKER + name, targets) ??
        throttler.getTracker ??
        this.commonOptions.getTracker;
      const generateKey =
        this.reflector.getAllAndOverride<ThrottlerPlan['generateKey'] | undefined>(
          THROTTLER_KEY_GENERATOR + name,
          targets,
        ) ??
        throttler.generateKey ??
        this.commonOptions.generateKey;
      if (typeof limit !== 'number' || typeof ttl !== 'number' || !getTracker || !generateKey) {
        dynamic = true;
        break;
      }
      plan.push({
        limit,
        ttl,
        // Not resolved: this guard's handleRequest never blocks past the window (no block state).
        blockDuration: ttl,
        throttler,
        getTracker,
        generateKey,
      });
    }
    const result = dynamic ? 'dynamic' : plan;
    this.plans.set(handler, result);
    return result;
  }

  private skips(context: ExecutionContext): boolean {
    if (context.getType() !== 'http' || !this.rateLimit.enabled) {
      return true;
    }
    const req = context.switchToHttp().getRequest<FastifyRequest>();
    const path = req.routeOptions.url ?? req.url;
    return UNLIMITED_PATHS.test(path) || tierOf(context) === 'auth';
  }

  protected override shouldSkip(context: ExecutionContext): Promise<boolean> {
    return Promise.resolve(this.skips(context));
  }

  protected override getTracker(req: Record<string, unknown>): Promise<string> {
    return Promise.resolve(trackerOf(req as TrackedRequest));
  }

  protected override generateKey(_context: ExecutionContext, tracker: string, throttlerName: string): string {
    // Per tier, not per route: every route of a tier shares one budget.
    return this.rateLimit.key(throttlerName, tracker);
  }

  protected override async handleRequest(request: ThrottlerRequest): Promise<boolean> {
    const { context, limit, ttl, throttler, getTracker, generateKey } = request;
    const tier = (throttler.name ?? 'default') as RateLimitTierName;
    const req = context.switchToHttp().getRequest<FastifyRequest>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const principal = req.principal;
    // A known user's limits come from their clinic's plan (QuotaService); `ai` also counts the
    // clinic aggregate and, on routes that start a run, the monthly token budget.
    if (principal && tier === 'ai') {
      const chargeBudget =
        this.reflector.get<boolean | undefined>(CHARGES_AI_BUDGET_KEY, context.getHandler()) === true;
      if (failsFast(req.routeOptions.config)) {
        // A run the assistant cannot take now (its breaker is open) is refused before it is
        // counted: no Redis round trips on the fail-fast path, and no quota spent on a 503.
        // Callers already known were refused before Nest (AgentFailFast); these were not yet.
        const refused = agentRunRefusal(this.policies.get(AGENT_POLICY));
        if (refused) {
          throw refused;
        }
      }
      await this.quotas.countAi(principal, { reply, chargeBudget });
      return true;
    }
    if (principal && tier !== 'ai' && this.keysAsCommon(request)) {
      await this.quotas.count(principal, tier, reply);
      return true;
    }
    const tracker = await getTracker(req, context);
    const tierLimit: TierLimit = principal
      ? await this.quotas.tierLimit(principal.clinic_id, tier)
      : { limit, windowMs: ttl };
    const state = await this.rateLimit.hit(generateKey(context, tracker, tier), tierLimit.windowMs, tierLimit.limit);
    if (!state) {
      return true; // store down, failing open (logged and counted by the service)
    }
    this.rateLimit.answer(reply, tier, tierLimit, state);
    return true;
  }
}

interface TrackedRequest {
  principal?: Principal;
  ip?: unknown;
}

/** Per user once authenticated, else per client IP. */
function trackerOf(req: TrackedRequest): string {
  if (req.principal?.user_id) {
    return userTracker(req.principal.user_id);
  }
  // req.ip honours X-Forwarded-For only from TRUST_PROXY peers (Fastify's trustProxy).
  return `ip:${normalizeIp(String(req.ip))}`;
}

import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Database } from '@neonpro/database';
import type { PolicyRegistry } from '@neonpro/resilience';
import type { PinoLogger } from 'nestjs-pino';
import type { GatewayRuntimeConfig } from '../gateway.config.js';
import type { GatewayMetrics } from '../metrics/gateway-metrics.service.js';
import type { PlansService } from '../plans/plans.service.js';
import { QuotaService } from '../plans/quota.service.js';
import { RateLimitTier } from './rate-limit-tier.decorator.js';
import { namedThrottlers, RateLimitGuard } from './rate-limit.guard.js';
import { RateLimitService, type TierLimit } from './rate-limit.service.js';
import { MemoryRateLimitStore, type WindowState } from './rate-limit.store.js';
import { SkipThrottle, Throttle, type ThrottlerRequest, type ThrottlerStorage } from './throttler.js';

const tiers: Record<'healthcare' | 'ai' | 'auth' | 'default', TierLimit> = {
  healthcare: { limit: 50, windowMs: 900_000 },
  ai: { limit: 20, windowMs: 60_000 },
  auth: { limit: 10, windowMs: 900_000 },
  default: { limit: 100, windowMs: 900_000 },
};

/** The guard with the counting replaced by a record of what it would count. */
class RecordingGuard extends RateLimitGuard {
  readonly counted: Omit<ThrottlerRequest, 'context'>[] = [];
  protected override handleRequest({ context: _context, ...request }: ThrottlerRequest): Promise<boolean> {
    this.counted.push(request);
    return Promise.resolve(true);
  }
}

@RateLimitTier('healthcare')
class Patients {
  list(): void {}
  @Throttle({ healthcare: { limit: 3, ttl: 1_000 } })
  export(): void {}
  @SkipThrottle({ healthcare: true })
  probe(): void {}
}

const contextOf = (cls: new () => object, handler: () => void): ExecutionContext =>
  ({
    getType: () => 'http',
    getClass: () => cls,
    getHandler: () => handler,
    switchToHttp: () => ({ getRequest: () => ({ url: '/v1/patients', routeOptions: { url: '/v1/patients' } }) }),
  }) as unknown as ExecutionContext;

describe('RateLimitGuard (per-handler throttler plan)', () => {
  let guard: RecordingGuard;
  beforeEach(async () => {
    guard = new RecordingGuard(
      { throttlers: namedThrottlers(tiers) },
      {} as ThrottlerStorage,
      new Reflector(),
      // Nothing is counted on the spot (as with a Redis store holding no lease): every hit goes
      // through handleRequest, which this guard records.
      {
        enabled: true,
        key: (scope: string, tracker: string) => `${scope}:${tracker}`,
        hitNow: () => undefined,
      } as Pick<RateLimitService, 'enabled' | 'key' | 'hitNow'> as RateLimitService,
      {} as QuotaService,
      {} as PolicyRegistry,
    );
    await guard.onModuleInit();
  });

  const count = async (handler: () => void): Promise<{ name?: string; limit: number; ttl: number }[]> => {
    guard.counted.length = 0;
    // Twice: the second call answers from the cached plan.
    for (let i = 0; i < 2; i++) {
      expect(await guard.canActivate(contextOf(Patients, handler))).toBe(true);
    }
    return guard.counted.map((r) => ({ name: r.throttler.name, limit: r.limit, ttl: r.ttl }));
  };

  it("counts a route in its own tier only, with the tier's limit", async () => {
    const plan = { name: 'healthcare', limit: 50, ttl: 900_000 };
    expect(await count(Patients.prototype.list)).toEqual([plan, plan]);
  });

  it("honours the library's @Throttle override and @SkipThrottle, as its own canActivate does", async () => {
    const plan = { name: 'healthcare', limit: 3, ttl: 1_000 };
    expect(await count(Patients.prototype.export)).toEqual([plan, plan]);
    expect(await count(Patients.prototype.probe)).toEqual([]);
  });
});

@RateLimitTier('ai')
class Chat {
  send(): void {}
}

describe('RateLimitGuard without waiting (a hit the store counts locally)', () => {
  let guard: RecordingGuard;
  let store: MemoryRateLimitStore;
  let answered: { tier: string; limit: number; hits: number }[];
  let plans: Record<string, Partial<Record<keyof typeof tiers, TierLimit>>>;
  const member = { user_id: 'u1', clinic_id: 'c1', role: 'admin' };

  beforeEach(async () => {
    store = new MemoryRateLimitStore(60_000);
    answered = [];
    plans = { c1: { healthcare: { limit: 2, windowMs: 60_000 } } };
    const rateLimit = {
      enabled: true,
      key: (scope: string, tracker: string) => `${scope}:${tracker}`,
      hitNow: (key: string, windowMs: number) => store.incrementNow(key, windowMs),
      setHeaders: (_reply: unknown, tier: string, limit: TierLimit, state: WindowState) =>
        answered.push({ tier, limit: limit.limit, hits: state.hits }),
      rejection: (tier: string, state: WindowState) => new Error(`429 ${tier} after ${state.hits}`),
      // The service's own answer (headers, then the 429 past the limit), over the recorded pair above.
      answer: RateLimitService.prototype.answer,
    };
    // The real QuotaService.countNow, over the plans cached above; nothing else of it is reached.
    const cachedPlans = { cachedFor: (clinicId: string) => (plans[clinicId] ? { tiers: plans[clinicId] } : undefined) };
    const quotas = new QuotaService(
      cachedPlans as unknown as PlansService,
      rateLimit as unknown as RateLimitService,
      ...([undefined, undefined, undefined, undefined, undefined] as unknown as [
        GatewayMetrics,
        PolicyRegistry,
        PinoLogger,
        Database,
        GatewayRuntimeConfig,
      ]),
    );
    guard = new RecordingGuard(
      { throttlers: namedThrottlers(tiers) },
      {} as ThrottlerStorage,
      new Reflector(),
      rateLimit as unknown as RateLimitService,
      quotas,
      {} as PolicyRegistry,
    );
    await guard.onModuleInit();
  });
  afterEach(() => store.close());

  const context = (cls: new () => object, handler: () => void, req: object): ExecutionContext =>
    ({
      getType: () => 'http',
      getClass: () => cls,
      getHandler: () => handler,
      switchToHttp: () => ({
        getRequest: () => ({ url: '/v1/x', routeOptions: { url: '/v1/x' }, ...req }),
        getResponse: () => ({}),
      }),
    }) as unknown as ExecutionContext;

  it("counts a known user's hit before canActivate returns, by the clinic's plan, without handleRequest", async () => {
    const ctx = context(Patients, Patients.prototype.list, { principal: member });
    const allowed = guard.canActivate(ctx);
    // Counted and answered synchronously: nothing was awaited yet.
    expect(answered).toEqual([{ tier: 'healthcare', limit: 2, hits: 1 }]);
    expect(await allowed).toBe(true);
    expect(await guard.canActivate(ctx)).toBe(true);
    expect(answered.map((a) => a.hits)).toEqual([1, 2]);
    expect(guard.counted).toEqual([]);
    // Past the plan's limit, the 429 is thrown at once.
    expect(() => guard.canActivate(ctx)).toThrow('429 healthcare after 3');
  });

  it('counts an anonymous caller per IP with the route tier limit', async () => {
    const ctx = context(Patients, Patients.prototype.list, { ip: '203.0.113.9' });
    expect(await guard.canActivate(ctx)).toBe(true);
    expect(answered).toEqual([{ tier: 'healthcare', limit: 50, hits: 1 }]);
    expect(guard.counted).toEqual([]);
  });

  it("waits (handleRequest) when the clinic's plan is not cached, and for a known user's ai tier", async () => {
    expect(
      await guard.canActivate(
        context(Patients, Patients.prototype.list, { principal: { ...member, clinic_id: 'c2' } }),
      ),
    ).toBe(true);
    expect(await guard.canActivate(context(Chat, Chat.prototype.send, { principal: member }))).toBe(true);
    expect(answered).toEqual([]);
    expect(guard.counted.map((r) => r.throttler.name)).toEqual(['healthcare', 'ai']);
  });
});

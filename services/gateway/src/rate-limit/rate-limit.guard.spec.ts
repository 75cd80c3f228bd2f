import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { PolicyRegistry } from '@neonpro/resilience';
import type { QuotaService } from '../plans/quota.service.js';
import { RateLimitTier } from './rate-limit-tier.decorator.js';
import { namedThrottlers, RateLimitGuard } from './rate-limit.guard.js';
import type { RateLimitService, TierLimit } from './rate-limit.service.js';
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
      { enabled: true } as RateLimitService,
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

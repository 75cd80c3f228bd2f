import { SetMetadata } from '@nestjs/common';

/**
 * Rate-limit tiers from the design document. Routes declare their tier; the limiter reads it.
 * `healthcare` (50 / 15 min), `ai` (20 / min), `auth` (10 failed attempts / 15 min),
 * `default` (100 / 15 min). Untagged routes are `default`.
 */
export type RateLimitTierName = 'healthcare' | 'ai' | 'auth' | 'default';

export const RATE_LIMIT_TIER_KEY = 'neonpro:rate-limit-tier';

/** A tier counted per user alone (`ai` also counts the clinic's aggregate: QuotaService.countAi). */
export type PerUserTier = Exclude<RateLimitTierName, 'ai'>;

/** Puts a controller or route in a rate-limit tier. */
export const RateLimitTier = (tier: RateLimitTierName): MethodDecorator & ClassDecorator =>
  SetMetadata(RATE_LIMIT_TIER_KEY, tier);

/** A route's tier: the handler's, else its controller's, else `default`. */
export function tierOfRoute(handler: object, controller: object): RateLimitTierName {
  const fromHandler = Reflect.getMetadata(RATE_LIMIT_TIER_KEY, handler) as RateLimitTierName | undefined;
  const fromClass = Reflect.getMetadata(RATE_LIMIT_TIER_KEY, controller) as RateLimitTierName | undefined;
  return fromHandler ?? fromClass ?? 'default';
}

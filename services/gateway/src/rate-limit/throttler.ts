import '@nestjs/common';
import { createRequire } from 'node:module';

// @nestjs/throttler is CommonJS and require()s the ESM @nestjs/common. Node allows that, but
// Jest's ESM loader refuses it while the static import graph is still being built
// (ERR_REQUIRE_CYCLE_MODULE). Requiring it while this module evaluates (its imports, hence
// @nestjs/common, already evaluated) works in both.
const throttler = createRequire(import.meta.url)('@nestjs/throttler') as typeof import('@nestjs/throttler');

export const {
  ThrottlerGuard,
  ThrottlerModule,
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  normalizeIp,
  Throttle,
  SkipThrottle,
} = throttler;

// The metadata keys its `canActivate` reads (@Throttle / @SkipThrottle), which RateLimitGuard reads
// once per handler; its index does not re-export them, its constants module does.
export const { THROTTLER_SKIP, THROTTLER_LIMIT, THROTTLER_TTL, THROTTLER_TRACKER, THROTTLER_KEY_GENERATOR } =
  createRequire(import.meta.url)(
    '@nestjs/throttler/dist/throttler.constants.js',
  ) as typeof import('@nestjs/throttler/dist/throttler.constants.js');
export type { ThrottlerModuleOptions, ThrottlerOptions, ThrottlerRequest, ThrottlerStorage } from '@nestjs/throttler';

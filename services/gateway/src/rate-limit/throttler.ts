import '@nestjs/common';
import { createRequire } from 'node:module';

// @nestjs/throttler is CommonJS and require()s the ESM @nestjs/common. Node allows that, but
// Jest's ESM loader refuses it while the static import graph is still being built
// (ERR_REQUIRE_CYCLE_MODULE). Requiring it while this module evaluates (its imports, hence
// @nestjs/common, already evaluated) works in both.
const throttler = createRequire(import.meta.url)('@nestjs/throttler') as typeof import('@nestjs/throttler');

export const { ThrottlerGuard, ThrottlerModule, InjectThrottlerOptions, InjectThrottlerStorage, normalizeIp } =
  throttler;
export type { ThrottlerModuleOptions, ThrottlerOptions, ThrottlerRequest, ThrottlerStorage } from '@nestjs/throttler';

import { Module } from '@nestjs/common';
import { AuthAttemptLimiter } from '../rate-limit/auth-attempt-limiter.service.js';
import { RateLimitService } from '../rate-limit/rate-limit.service.js';
import { policyRegistryProvider } from '../resilience/gateway-policies.js';
import { GatewayOpsModule } from '../ops/ops.module.js';
import { PlansService } from '../plans/plans.service.js';
import { QuotaService } from '../plans/quota.service.js';

/**
 * What stands between a client and the features: rate limits (tiers, failed logins), per-clinic
 * plans and AI token budgets (plans/), resilience
 * policies per upstream, and the problem+json mapping (common/). The global guard and filter are
 * registered by GatewayModule, which fixes their order.
 */
@Module({
  imports: [GatewayOpsModule],
  providers: [RateLimitService, AuthAttemptLimiter, PlansService, QuotaService, policyRegistryProvider],
  exports: [RateLimitService, AuthAttemptLimiter, PlansService, QuotaService, policyRegistryProvider],
})
export class EdgeModule {}

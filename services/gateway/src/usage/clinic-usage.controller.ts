import { Controller, Get, Inject, Query, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Principal } from '@neonpro/auth';
import { ErrorCode } from '@neonpro/contracts';
import type { UsageReport } from '@neonpro/database';
import type { FastifyRequest } from 'fastify';
import { CurrentPrincipal, JwtAuthGuard } from '../auth/jwt-auth.guard.js';
import { ProblemException } from '../common/problem.js';
import { ZodValidationPipe } from '../common/zod-validation.pipe.js';
import { ApiQueryFrom } from '../docs/json-schema.js';
import { GATEWAY_CONFIG, type GatewayRuntimeConfig } from '../gateway.config.js';
import { UserDb } from '../healthcare/user-db.service.js';
import { configPlan, planLimitsJson, resolvePlan } from '../plans/plan.js';
import { RateLimitTier } from '../rate-limit/rate-limit-tier.decorator.js';
import { type UsageQuery, usageQuerySchema, usageWindow } from './usage.schema.js';

export interface ClinicPlanResponse {
  clinic_id: string;
  timezone: string;
  /** True when the clinic has a plan of its own (else the default plan applies). */
  custom: boolean;
  limits: ReturnType<typeof planLimitsJson>;
  monthly_ai_tokens: number;
  budget: { used: number; remaining: number | null; month_start: string; resets_at: string };
}

function adminOnly(principal: Principal, what: string): void {
  if (principal.role !== 'admin') {
    throw new ProblemException(403, ErrorCode.Forbidden, `Only admins read ${what}.`);
  }
}

/** A clinic admin's view of its plan and usage; read-only: plans change only through the operators' CLI. */
@ApiTags('clinic')
@ApiBearerAuth()
@Controller('v1/clinic')
@UseGuards(JwtAuthGuard)
@RateLimitTier('default')
export class ClinicUsageController {
  constructor(
    private readonly db: UserDb,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayRuntimeConfig,
  ) {}

  @Get('plan')
  @ApiOperation({ summary: "The clinic's limits and monthly AI token budget, with what remains this month (admins)" })
  plan(@CurrentPrincipal() principal: Principal, @Req() req: FastifyRequest): Promise<ClinicPlanResponse> {
    adminOnly(principal, 'the plan');
    return this.db.run(req, async (r) => {
      const plan = resolvePlan(await r.plans.current(), configPlan(this.config));
      const month = await r.usage.month(plan.clinic_id);
      await r.audit.record('plan.read', 'clinic', plan.clinic_id);
      return {
        clinic_id: plan.clinic_id,
        timezone: plan.timezone,
        custom: plan.custom,
        limits: planLimitsJson(plan),
        monthly_ai_tokens: plan.monthly_ai_tokens,
        budget: {
          used: month.tokens,
          remaining: plan.monthly_ai_tokens > 0 ? Math.max(0, plan.monthly_ai_tokens - month.tokens) : null,
          month_start: month.month_start,
          resets_at: month.resets_at,
        },
      };
    });
  }

  @Get('usage')
  @ApiOperation({ summary: "The clinic's agent runs and tokens per day, week or month (admins), from daily rollups" })
  @ApiQueryFrom(usageQuerySchema)
  usage(
    @Query(new ZodValidationPipe(usageQuerySchema, 'query')) q: UsageQuery,
    @CurrentPrincipal() principal: Principal,
    @Req() req: FastifyRequest,
  ): Promise<UsageReport & { from: string; to: string; granularity: string }> {
    adminOnly(principal, 'usage');
    return this.db.run(req, async (r) => {
      const { timezone } = await r.clinics.current();
      const window = usageWindow(q, timezone);
      const report = await r.usage.report({ ...window, granularity: q.granularity });
      await r.audit.record('usage.read', 'clinic', principal.clinic_id, { ...window, granularity: q.granularity });
      return { ...window, granularity: q.granularity, ...report };
    });
  }
}

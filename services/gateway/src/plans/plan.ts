import type { PlanColumns, StoredPlan } from '@neonpro/database';
import type { GatewayConfig } from '@neonpro/config';

/** Tiers a plan limits: the four request tiers plus the per-clinic aggregate of `ai`. */
export const PLAN_TIERS = ['healthcare', 'ai', 'auth', 'default', 'ai_clinic'] as const;
export type PlanTier = (typeof PLAN_TIERS)[number];

export interface PlanLimit {
  limit: number;
  windowMs: number;
}

/** A clinic's limits after inheritance (clinic plan -> default plan -> gateway settings). */
export interface EffectivePlan {
  clinic_id: string;
  timezone: string;
  tiers: Record<PlanTier, PlanLimit>;
  /** Input + output tokens per month in the clinic's time zone; 0 = no budget. */
  monthly_ai_tokens: number;
  /** True when the clinic has a plan of its own (some fields may still inherit). */
  custom: boolean;
}

type FallbackConfig = Pick<
  GatewayConfig,
  | 'RATE_LIMIT_HEALTHCARE_LIMIT'
  | 'RATE_LIMIT_HEALTHCARE_WINDOW_S'
  | 'RATE_LIMIT_AI_LIMIT'
  | 'RATE_LIMIT_AI_WINDOW_S'
  | 'RATE_LIMIT_AUTH_LIMIT'
  | 'RATE_LIMIT_AUTH_WINDOW_S'
  | 'RATE_LIMIT_DEFAULT_LIMIT'
  | 'RATE_LIMIT_DEFAULT_WINDOW_S'
  | 'RATE_LIMIT_AI_CLINIC_LIMIT'
  | 'RATE_LIMIT_AI_CLINIC_WINDOW_S'
  | 'PLAN_MONTHLY_AI_TOKENS'
>;

/** The gateway's settings expressed as plan columns: the last level of inheritance. */
export function configPlan(c: FallbackConfig): PlanColumns {
  return {
    healthcare_limit: c.RATE_LIMIT_HEALTHCARE_LIMIT,
    healthcare_window_s: c.RATE_LIMIT_HEALTHCARE_WINDOW_S,
    ai_limit: c.RATE_LIMIT_AI_LIMIT,
    ai_window_s: c.RATE_LIMIT_AI_WINDOW_S,
    auth_limit: c.RATE_LIMIT_AUTH_LIMIT,
    auth_window_s: c.RATE_LIMIT_AUTH_WINDOW_S,
    default_limit: c.RATE_LIMIT_DEFAULT_LIMIT,
    default_window_s: c.RATE_LIMIT_DEFAULT_WINDOW_S,
    ai_clinic_limit: c.RATE_LIMIT_AI_CLINIC_LIMIT,
    ai_clinic_window_s: c.RATE_LIMIT_AI_CLINIC_WINDOW_S,
    monthly_ai_tokens: c.PLAN_MONTHLY_AI_TOKENS,
  };
}

/** Merges a stored plan over the default plan over the gateway's settings. */
export function resolvePlan(stored: StoredPlan, fallback: PlanColumns): EffectivePlan {
  const pick = (f: keyof PlanColumns): number => stored.plan?.[f] ?? stored.defaults[f] ?? fallback[f] ?? 0;
  const tier = (t: PlanTier): PlanLimit => ({
    limit: pick(`${t}_limit`),
    windowMs: pick(`${t}_window_s`) * 1000,
  });
  return {
    clinic_id: stored.clinic_id,
    timezone: stored.timezone,
    tiers: {
      healthcare: tier('healthcare'),
      ai: tier('ai'),
      auth: tier('auth'),
      default: tier('default'),
      ai_clinic: tier('ai_clinic'),
    },
    monthly_ai_tokens: pick('monthly_ai_tokens'),
    custom: stored.plan !== null,
  };
}

/** The plan when its row cannot be read: the gateway's settings (the service keeps serving). */
export function fallbackPlan(clinicId: string, fallback: PlanColumns): EffectivePlan {
  return resolvePlan(
    { clinic_id: clinicId, slug: '', timezone: 'UTC', defaults: fallback, plan: null, updated_at: null },
    fallback,
  );
}

/** The JSON form of a plan's limits (API and CLI): windows in seconds. */
export function planLimitsJson(plan: EffectivePlan): Record<PlanTier, { limit: number; window_s: number }> {
  const out = {} as Record<PlanTier, { limit: number; window_s: number }>;
  for (const t of PLAN_TIERS) {
    out[t] = { limit: plan.tiers[t].limit, window_s: plan.tiers[t].windowMs / 1000 };
  }
  return out;
}

import type { PlanColumns, StoredPlan } from '@neonpro/database';
import { PLAN_FIELDS } from '@neonpro/database';
import { parsePlanArgs, PlanUsageError } from './plan-command.js';
import { fallbackPlan, planLimitsJson, resolvePlan } from './plan.js';

const empty = (): PlanColumns => Object.fromEntries(PLAN_FIELDS.map((f) => [f, null])) as PlanColumns;
const settings: PlanColumns = {
  healthcare_limit: 50,
  healthcare_window_s: 900,
  ai_limit: 20,
  ai_window_s: 60,
  auth_limit: 10,
  auth_window_s: 900,
  default_limit: 100,
  default_window_s: 900,
  ai_clinic_limit: 200,
  ai_clinic_window_s: 60,
  monthly_ai_tokens: 0,
};
const stored = (plan: Partial<PlanColumns> | null, defaults: Partial<PlanColumns> = {}): StoredPlan => ({
  clinic_id: 'c1',
  slug: 'aurora',
  timezone: 'America/Sao_Paulo',
  defaults: { ...empty(), ...defaults },
  plan: plan ? { ...empty(), ...plan } : null,
  updated_at: null,
});

describe('resolvePlan', () => {
  it('takes each field from the clinic plan, else the default plan, else the settings', () => {
    const p = resolvePlan(
      stored({ ai_limit: 5 }, { ai_limit: 9, healthcare_limit: 70, monthly_ai_tokens: 1000 }),
      settings,
    );
    expect(p.tiers.ai).toEqual({ limit: 5, windowMs: 60000 });
    expect(p.tiers.healthcare).toEqual({ limit: 70, windowMs: 900000 });
    expect(p.tiers.ai_clinic).toEqual({ limit: 200, windowMs: 60000 });
    expect(p.monthly_ai_tokens).toBe(1000);
    expect(p.custom).toBe(true);
    expect(p.timezone).toBe('America/Sao_Paulo');
  });

  it('a clinic without a plan of its own gets the default plan', () => {
    const p = resolvePlan(stored(null, { ai_limit: 9 }), settings);
    expect(p.custom).toBe(false);
    expect(p.tiers.ai.limit).toBe(9);
    expect(planLimitsJson(p).ai).toEqual({ limit: 9, window_s: 60 });
  });

  it('falls back to the settings alone when plans cannot be read', () => {
    expect(fallbackPlan('c2', settings).tiers.default).toEqual({ limit: 100, windowMs: 900000 });
  });
});

describe('plan CLI arguments', () => {
  it('maps each flag to its count and window, any subset', () => {
    expect(parsePlanArgs(['set', '--clinic', 'aurora', '--ai-per-minute', '3', '--monthly-ai-tokens=0'])).toEqual({
      action: 'set',
      clinic: 'aurora',
      patch: { ai_limit: 3, ai_window_s: 60, monthly_ai_tokens: 0 },
    });
    expect(parsePlanArgs(['set', '--clinic', 'x', '--healthcare-per-15m', '40']).patch).toEqual({
      healthcare_limit: 40,
      healthcare_window_s: 900,
    });
    expect(parsePlanArgs(['show', '--clinic', 'default'])).toEqual({ action: 'show', clinic: 'default', patch: {} });
  });

  it.each([
    [[]],
    [['raise', '--clinic', 'a']],
    [['show']],
    [['set', '--clinic', 'a']],
    [['set', '--clinic', 'a', '--ai-per-minute', '0']],
    [['set', '--clinic', 'a', '--ai-per-minute', '2.5']],
    [['set', '--clinic', 'a', '--ai-per-minute', '-1']],
    [['set', '--clinic', 'a', '--ai-per-minute']],
    [['set', '--clinic', 'a', '--unlimited', '1']],
    [['set', '--clinic', 'a', 'toString', '1']],
    [['show', '--clinic', 'a', '--ai-per-minute', '3']],
  ])('refuses %j with a usage error', (argv) => {
    expect(() => parsePlanArgs(argv)).toThrow(PlanUsageError);
  });
});

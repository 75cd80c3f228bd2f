import { z } from 'zod';
import { PLAN_TIERS, type PlanTier } from '../plans/plan.js';

const DAY_MS = 86400000;
/** Longest span per granularity, so one request reads a bounded number of rollup rows. */
const MAX_DAYS = { day: 400, week: 3 * 366, month: 10 * 366 } as const;

export const usageQuerySchema = z
  .strictObject({
    /** First local day (YYYY-MM-DD, clinic time zone); default: 29 days before `to`. */
    from: z.iso.date().optional(),
    /** Last local day, inclusive; default: today in the clinic's time zone. */
    to: z.iso.date().optional(),
    granularity: z.enum(['day', 'week', 'month']).default('day'),
  })
  .superRefine((q, ctx) => {
    if (!q.from || !q.to) {
      return;
    }
    const days = (Date.parse(q.to) - Date.parse(q.from)) / DAY_MS;
    if (days < 0) {
      ctx.addIssue({ code: 'custom', path: ['from'], message: 'from must not be after to' });
    } else if (days >= MAX_DAYS[q.granularity]) {
      ctx.addIssue({
        code: 'custom',
        path: ['from'],
        message: `a ${q.granularity} report spans at most ${MAX_DAYS[q.granularity]} days`,
      });
    }
  });
export type UsageQuery = z.output<typeof usageQuerySchema>;

/** Today's date (YYYY-MM-DD) in a time zone. */
export function localToday(timezone: string, now = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: timezone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(now);
}

/** `date` moved by `days` (YYYY-MM-DD arithmetic in UTC, no time-zone drift). */
export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** The report window: defaults fill in from the clinic's today; a lone `from` or `to` spans 30 days. */
export function usageWindow(q: UsageQuery, timezone: string, now = new Date()): { from: string; to: string } {
  const to = q.to ?? (q.from ? minDate(addDays(q.from, 29), localToday(timezone, now)) : localToday(timezone, now));
  const from = q.from ?? addDays(to, -29);
  return { from, to };
}

function minDate(a: string, b: string): string {
  return a < b ? a : b;
}

// What GET /v1/clinic/plan and /v1/clinic/usage answer (documented, and validated by the contract test).
const limitSchema = z.object({ limit: z.int(), window_s: z.number() });
const countsSchema = z.object({ runs: z.int(), input_tokens: z.int(), output_tokens: z.int(), tool_calls: z.int() });
const byProvider = z.record(z.string(), countsSchema).meta({ description: 'The same counts per model provider.' });

export const clinicPlanResponseSchema = z
  .object({
    clinic_id: z.guid(),
    timezone: z.string(),
    custom: z.boolean().meta({ description: 'The clinic has a plan of its own (else the default plan applies).' }),
    limits: z.object(
      Object.fromEntries(PLAN_TIERS.map((t) => [t, limitSchema])) as Record<PlanTier, typeof limitSchema>,
    ),
    monthly_ai_tokens: z.int().meta({ description: 'Monthly AI token budget; 0 means unlimited.' }),
    budget: z.object({
      used: z.int(),
      remaining: z.int().nullable().meta({ description: 'Null when the budget is unlimited.' }),
      month_start: z.iso.date(),
      resets_at: z.iso.datetime({ offset: true }),
    }),
  })
  .meta({ id: 'ClinicPlan' });
export type ClinicPlanResponse = z.infer<typeof clinicPlanResponseSchema>;

export const usageReportResponseSchema = z
  .object({
    from: z.iso.date(),
    to: z.iso.date(),
    granularity: z.enum(['day', 'week', 'month']),
    timezone: z.string(),
    data: z.array(
      countsSchema.extend({
        period: z.iso.date().meta({ description: 'First local day of the period (weeks start on Monday).' }),
        by_provider: byProvider,
      }),
    ),
    totals: countsSchema.extend({ by_provider: byProvider }),
  })
  .meta({ id: 'UsageReport' });
export type UsageReportResponse = z.infer<typeof usageReportResponseSchema>;

import { z } from 'zod';

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

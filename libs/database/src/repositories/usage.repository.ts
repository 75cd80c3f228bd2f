import { ForbiddenError } from '../errors.js';
import type { TxContext } from './context.js';

export type UsageOutcome = 'ok' | 'step_limit' | 'cancelled' | 'error';
export type UsageGranularity = 'day' | 'week' | 'month';

/** One agent run, recorded as its caller (clinic and user come from the JWT, not from here). */
export interface AgentRunUsage {
  session_id: string | null;
  provider: string;
  model: string;
  input_tokens: number;
  output_tokens: number;
  /** The provider reported the counts (else they are the ≈4 chars/token estimate). */
  tokens_reported: boolean;
  tool_calls: number;
  duration_ms: number;
  outcome: UsageOutcome;
}

export interface UsageCounts {
  runs: number;
  input_tokens: number;
  output_tokens: number;
  tool_calls: number;
}

export interface UsagePeriod extends UsageCounts {
  /** First day of the period (YYYY-MM-DD, clinic time zone; weeks start on Monday). */
  period: string;
  by_provider: Record<string, UsageCounts>;
}

export interface UsageReport {
  timezone: string;
  data: UsagePeriod[];
  totals: UsageCounts & { by_provider: Record<string, UsageCounts> };
}

export interface MonthUsage {
  /** Input + output tokens since the month started in the clinic's time zone. */
  tokens: number;
  month_start: string;
  /** When the month turns in the clinic's time zone (ISO). */
  resets_at: string;
}

/** The columns of an `agent_usage` insert; the first two are the caller's (RLS checks them). */
export const USAGE_INSERT_COLUMNS =
  'clinic_id, user_id, session_id, provider, model, input_tokens, output_tokens, tokens_reported, tool_calls, duration_ms, outcome';

/** The nine values after clinic and user, in `USAGE_INSERT_COLUMNS` order (counts as whole non-negatives). */
export function usageValues(run: AgentRunUsage): unknown[] {
  return [
    run.session_id,
    run.provider,
    run.model,
    Math.max(0, Math.round(run.input_tokens)),
    Math.max(0, Math.round(run.output_tokens)),
    run.tokens_reported,
    Math.max(0, Math.round(run.tool_calls)),
    Math.max(0, Math.round(run.duration_ms)),
    run.outcome,
  ];
}

const zero = (): UsageCounts => ({ runs: 0, input_tokens: 0, output_tokens: 0, tool_calls: 0 });

function add(into: UsageCounts, row: UsageCounts): void {
  into.runs += row.runs;
  into.input_tokens += row.input_tokens;
  into.output_tokens += row.output_tokens;
  into.tool_calls += row.tool_calls;
}

/** Agent usage: one row per run plus daily rollups (kept by a trigger in the run's transaction). */
export class UsageRepository {
  constructor(private readonly ctx: TxContext) {}

  /** Records a run as the caller (RLS: own clinic, own user id). */
  async record(run: AgentRunUsage): Promise<void> {
    await this.ctx.db.query(
      `insert into public.agent_usage (${USAGE_INSERT_COLUMNS})
       values (app.current_clinic_id(), auth.uid(), $1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      usageValues(run),
    );
  }

  /**
   * Admins only: usage of the caller's clinic between two local dates (inclusive), one entry
   * per period (empty periods included, as zeros), from the daily rollups.
   */
  async report(q: { from: string; to: string; granularity: UsageGranularity }): Promise<UsageReport> {
    if ((await this.ctx.memberRole()) !== 'admin') {
      throw new ForbiddenError('only admins read usage');
    }
    const rows = await this.ctx.rows<UsageCounts & { period: string; provider: string | null; timezone: string }>(
      `with periods as (
         select generate_series(date_trunc($3, $1::date::timestamp), date_trunc($3, $2::date::timestamp), ('1 ' || $3)::interval)::date as period
       ), agg as (
         select date_trunc($3, d.day::timestamp)::date as period, d.provider, sum(d.runs)::bigint as runs,
                sum(d.input_tokens)::bigint as input_tokens, sum(d.output_tokens)::bigint as output_tokens,
                sum(d.tool_calls)::bigint as tool_calls
           from public.agent_usage_daily d
          where d.clinic_id = app.current_clinic_id() and d.day between $1::date and $2::date
          group by 1, 2
       )
       select to_char(p.period, 'YYYY-MM-DD') as period, a.provider, coalesce(a.runs, 0) as runs,
              coalesce(a.input_tokens, 0) as input_tokens, coalesce(a.output_tokens, 0) as output_tokens,
              coalesce(a.tool_calls, 0) as tool_calls,
              (select timezone from public.clinics where id = app.current_clinic_id()) as timezone
         from periods p left join agg a on a.period = p.period
        order by p.period, a.provider`,
      [q.from, q.to, q.granularity],
    );
    const data: UsagePeriod[] = [];
    const totals = { ...zero(), by_provider: {} as Record<string, UsageCounts> };
    for (const r of rows) {
      let entry = data.at(-1);
      if (entry?.period !== r.period) {
        entry = { period: r.period, ...zero(), by_provider: {} };
        data.push(entry);
      }
      if (!r.provider) {
        continue;
      }
      const counts = {
        runs: r.runs,
        input_tokens: r.input_tokens,
        output_tokens: r.output_tokens,
        tool_calls: r.tool_calls,
      };
      add(entry, counts);
      add(totals, counts);
      add((entry.by_provider[r.provider] ??= zero()), counts);
      add((totals.by_provider[r.provider] ??= zero()), counts);
    }
    return { timezone: rows[0]?.timezone ?? 'UTC', data, totals };
  }

  /** Month-to-date tokens of a clinic (the gateway's budget as `neonpro_plan_reader`; admins: own clinic). */
  async month(clinicId: string): Promise<MonthUsage> {
    const row = await this.ctx.one<MonthUsage>(
      `select tokens, to_char(month_start, 'YYYY-MM-DD') as month_start, resets_at from app.clinic_month_usage($1)`,
      [clinicId],
    );
    if (!row) {
      throw new ForbiddenError('no such clinic');
    }
    return row;
  }
}

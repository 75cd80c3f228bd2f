import { type AgentRunUsage, createRepositories, Database, ForbiddenError } from '@neonpro/database';
import { must } from '@neonpro/testing';
import { type DemoDatabase, openDemoDatabase } from './support/demo-database.js';

const run = (over: Partial<AgentRunUsage> = {}): AgentRunUsage => ({
  session_id: null,
  provider: 'local',
  model: 'local-clinic-model',
  input_tokens: 100,
  output_tokens: 20,
  tokens_reported: false,
  tool_calls: 1,
  duration_ms: 300,
  outcome: 'ok',
  ...over,
});

describe('database: plans and usage ledger under RLS (real Postgres)', () => {
  let d: DemoDatabase;

  beforeAll(async () => {
    // The services' login; the owner only for fixtures and the plan CLI's path.
    d = await openDemoDatabase();
  });

  afterAll(async () => {
    await d?.close();
  });

  it('records runs as the caller and rolls them up per local day and provider', async () => {
    await d.db.withUser(d.user('dra.lima@aurora.demo'), (r) => r.usage.record(run()));
    await d.db.withUser(d.user('admin@aurora.demo'), (r) => r.usage.record(run({ provider: 'openai', tool_calls: 0 })));
    await d.db.withUser(d.user('admin@boreal.demo'), (r) => r.usage.record(run({ input_tokens: 999 })));

    const own = await d.owner.pool.query<{ user_id: string; clinic_id: string }>(
      `select user_id, clinic_id from public.agent_usage where provider = 'local' and clinic_id = $1`,
      [d.clinic('aurora')],
    );
    expect(own.rows).toEqual([{ user_id: d.user('dra.lima@aurora.demo').sub, clinic_id: d.clinic('aurora') }]);

    const report = await d.db.withUser(d.user('admin@aurora.demo'), (r) => {
      // A window around today wide enough for any clinic time zone.
      const day = (offset: number): string => new Date(Date.now() + offset * 86400000).toISOString().slice(0, 10);
      return r.usage.report({ from: day(-2), to: day(2), granularity: 'day' });
    });
    expect(report.timezone).toBe('America/Sao_Paulo');
    expect(report.totals).toEqual({
      runs: 2,
      input_tokens: 200,
      output_tokens: 40,
      tool_calls: 1,
      by_provider: {
        local: { runs: 1, input_tokens: 100, output_tokens: 20, tool_calls: 1 },
        openai: { runs: 1, input_tokens: 100, output_tokens: 20, tool_calls: 0 },
      },
    });
    const month = await d.db.asPlanReader((r) => r.usage.month(d.clinic('boreal')));
    expect(month.tokens).toBe(1019);
    expect(Date.parse(month.resets_at)).toBeGreaterThan(Date.now());
  });

  it('only admins read usage, and only their clinic', async () => {
    await expect(
      d.db.withUser(d.user('dra.lima@aurora.demo'), (r) =>
        r.usage.report({ from: '2026-01-01', to: '2026-01-31', granularity: 'day' }),
      ),
    ).rejects.toBeInstanceOf(ForbiddenError);
    // RLS, not only the repository: a member who is not an admin sees no row at all.
    const seen = await d.db.withUser(d.user('dra.lima@aurora.demo'), async (_r, tx) => {
      const a = await tx.query<{ n: number }>('select count(*)::int as n from public.agent_usage');
      const daily = await tx.query<{ n: number }>('select count(*)::int as n from public.agent_usage_daily');
      return [must(a.rows[0], 'a row').n, must(daily.rows[0], 'a row').n];
    });
    expect(seen).toEqual([0, 0]);
    const adminSees = await d.db.withUser(
      d.user('admin@boreal.demo'),
      async (_r, tx) =>
        (await tx.query<{ clinic_id: string }>('select distinct clinic_id from public.agent_usage_daily')).rows,
    );
    expect(adminSees).toEqual([{ clinic_id: d.clinic('boreal') }]);
  });

  it("two runs of one clinic committing at once do not queue on the day's rollup row, and every stripe is counted", async () => {
    // Two single-connection pools on different stripes (the stripe is the connection's pid mod 16).
    const pools: Database[] = [];
    const stripeOf = async (db: Database): Promise<number> =>
      must((await db.pool.query<{ s: number }>('select pg_backend_pid() % 16 as s')).rows[0], 'a row').s;
    try {
      const first = new Database({ url: d.tdb.serviceUrl, poolMax: 1 });
      pools.push(first);
      const firstStripe = await stripeOf(first);
      let second: Database | undefined;
      while (!second) {
        const candidate = new Database({ url: d.tdb.serviceUrl, poolMax: 1 });
        pools.push(candidate);
        if ((await stripeOf(candidate)) !== firstStripe) {
          second = candidate;
        }
      }
      const other = second;
      const clinic = d.clinic('aurora');
      const month = () => d.db.asPlanReader((r) => r.usage.month(clinic));
      const before = (await month()).tokens;
      // The first run holds its transaction open (its rollup row locked) while the second records
      // and commits. On a single rollup row the second would wait for the first, which waits for it:
      // the lock timeout turns that into a failure instead of a hang.
      await first.withUser(d.user('dra.lima@aurora.demo'), async (r) => {
        await r.usage.record(run({ provider: 'stripes', input_tokens: 5, output_tokens: 1 }));
        await other.withUser(d.user('admin@aurora.demo'), async (r2, tx) => {
          await tx.query("set local lock_timeout = '5s'");
          await r2.usage.record(run({ provider: 'stripes', input_tokens: 7, output_tokens: 1 }));
        });
      });
      expect((await month()).tokens).toBe(before + 14);
      const rows = await d.owner.pool.query<{ stripes: number; runs: number }>(
        `select count(*)::int as stripes, sum(runs)::int as runs from public.agent_usage_daily
          where clinic_id = $1 and provider = 'stripes'`,
        [clinic],
      );
      expect(rows.rows[0]).toEqual({ stripes: 2, runs: 2 });
      const report = await d.db.withUser(d.user('admin@aurora.demo'), (r) => {
        const day = (offset: number): string => new Date(Date.now() + offset * 86400000).toISOString().slice(0, 10);
        return r.usage.report({ from: day(-2), to: day(2), granularity: 'month' });
      });
      expect(report.totals.by_provider.stripes).toEqual({ runs: 2, input_tokens: 12, output_tokens: 2, tool_calls: 2 });
    } finally {
      await Promise.all(pools.map((p) => p.close()));
    }
  });

  it('a caller cannot record usage for another user or clinic, nor rewrite it', async () => {
    const lima = d.user('dra.lima@aurora.demo');
    await expect(
      d.db.withUser(lima, (_r, tx) =>
        tx.query(
          `insert into public.agent_usage (clinic_id, user_id, provider, model, input_tokens, output_tokens, duration_ms, outcome)
           values ($1, $2, 'local', 'm', 1, 1, 1, 'ok')`,
          [d.clinic('boreal'), lima.sub],
        ),
      ),
    ).rejects.toMatchObject({ code: '42501' });
    await expect(
      d.db.withUser(lima, (_r, tx) =>
        tx.query(
          `insert into public.agent_usage (clinic_id, user_id, provider, model, input_tokens, output_tokens, duration_ms, outcome)
           values ($1, $2, 'local', 'm', 1, 1, 1, 'ok')`,
          [d.clinic('aurora'), d.user('admin@aurora.demo').sub],
        ),
      ),
    ).rejects.toMatchObject({ code: '42501' });
    for (const sql of [
      'update public.agent_usage set input_tokens = 0',
      'delete from public.agent_usage',
      'update public.agent_usage_daily set input_tokens = 0',
      "insert into public.agent_usage_daily (clinic_id, day, provider) values (app.current_clinic_id(), current_date, 'x')",
    ]) {
      await expect(d.db.withUser(d.user('admin@aurora.demo'), (_r, tx) => tx.query(sql))).rejects.toMatchObject({
        code: '42501',
      });
    }
  });

  it('plans are readable by their clinic and writable by nobody but the owner', async () => {
    const admin = d.user('admin@aurora.demo');
    for (const sql of [
      `insert into public.clinic_plans (clinic_id, ai_limit) values (app.current_clinic_id(), 1000)`,
      'update public.plan_defaults set ai_limit = 1000',
    ]) {
      await expect(d.db.withUser(admin, (_r, tx) => tx.query(sql))).rejects.toMatchObject({ code: '42501' });
      await expect(d.db.asPlanReader((_r, tx) => tx.query(sql))).rejects.toMatchObject({ code: '42501' });
    }
    // The owner path (the plan CLI).
    const client = await d.owner.pool.connect();
    try {
      await createRepositories(client).plans.set(d.clinic('boreal'), { ai_limit: 7, ai_window_s: 60 });
      await createRepositories(client).plans.set(null, { monthly_ai_tokens: 123 });
    } finally {
      client.release();
    }
    const mine = await d.db.withUser(d.user('admin@boreal.demo'), (r) => r.plans.current());
    expect(mine.plan).toMatchObject({ ai_limit: 7, ai_window_s: 60, healthcare_limit: null });
    expect(mine.defaults.monthly_ai_tokens).toBe(123);
    // Another clinic's plan is invisible: aurora reads its own (no row) and the defaults.
    const aurora = await d.db.withUser(admin, async (r, tx) => {
      const rows = (await tx.query('select clinic_id from public.clinic_plans')).rows;
      return { rows, plan: (await r.plans.current()).plan };
    });
    expect(aurora).toEqual({ rows: [], plan: null });
  });

  it('the plan reader reads every clinic plan and month usage, and nothing else', async () => {
    const read = await d.db.asPlanReader(async (r, tx) => ({
      boreal: await r.plans.forClinic(d.clinic('boreal')),
      aurora: await r.plans.forClinic(d.clinic('aurora')),
      defaults: await r.plans.defaults(),
      month: await r.usage.month(d.clinic('aurora')),
      daily: (await tx.query('select count(*)::int as n from public.agent_usage_daily')).rows[0] as { n: number },
    }));
    expect(read.boreal.plan).toMatchObject({ ai_limit: 7 });
    expect(read.aurora.clinic_id).toBe(d.clinic('aurora'));
    expect(read.defaults?.monthly_ai_tokens).toBe(123);
    expect(read.month.tokens).toBeGreaterThanOrEqual(0);
    expect(read.daily.n).toBeGreaterThan(0);
    for (const sql of [
      'select id from public.patients limit 1',
      'select name from public.clinics limit 1',
      'select id from public.agent_usage limit 1',
      'select id from public.audit_log limit 1',
      `insert into public.agent_usage_daily (clinic_id, day, provider) values ('${d.clinic('aurora')}', current_date, 'x')`,
      `select app.audit('x', 'patient', null, '{}'::jsonb)`,
    ]) {
      await expect(d.db.asPlanReader((_r, tx) => tx.query(sql))).rejects.toMatchObject({ code: '42501' });
    }
  });
});

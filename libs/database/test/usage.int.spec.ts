import { type AgentRunUsage, createRepositories, Database, ForbiddenError, type JwtClaims } from '@neonpro/database';
import { createTestDatabase, type TestDatabase, must } from '@neonpro/testing';

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
  let tdb: TestDatabase;
  let db: Database;
  let owner: Database;
  const users: Record<string, JwtClaims> = {};
  const clinics: Record<string, string> = {};
  const as = (email: string): JwtClaims => must(users[email], email);
  const clinic = (slug: string): string => must(clinics[slug], slug);

  beforeAll(async () => {
    tdb = await createTestDatabase({ seed: true });
    // The services' login; the owner only for fixtures and the plan CLI's path.
    db = new Database({ url: tdb.serviceUrl, poolMax: 4 });
    owner = new Database({ url: tdb.url, poolMax: 1 });
    const { rows } = await owner.pool.query<{ id: string; email: string; clinic_id: string; slug: string }>(
      `select u.id, u.email, m.clinic_id, c.slug from auth.users u
         join clinic_members m on m.user_id = u.id join clinics c on c.id = m.clinic_id`,
    );
    for (const r of rows) {
      users[r.email] = { sub: r.id, email: r.email, role: 'authenticated', aud: 'authenticated' };
      clinics[r.slug] = r.clinic_id;
    }
  });

  afterAll(async () => {
    await db?.close();
    await owner?.close();
    await tdb?.drop();
  });

  it('records runs as the caller and rolls them up per local day and provider', async () => {
    await db.withUser(as('dra.lima@aurora.demo'), (r) => r.usage.record(run()));
    await db.withUser(as('admin@aurora.demo'), (r) => r.usage.record(run({ provider: 'openai', tool_calls: 0 })));
    await db.withUser(as('admin@boreal.demo'), (r) => r.usage.record(run({ input_tokens: 999 })));

    const own = await owner.pool.query<{ user_id: string; clinic_id: string }>(
      `select user_id, clinic_id from public.agent_usage where provider = 'local' and clinic_id = $1`,
      [clinic('aurora')],
    );
    expect(own.rows).toEqual([{ user_id: as('dra.lima@aurora.demo').sub, clinic_id: clinic('aurora') }]);

    const report = await db.withUser(as('admin@aurora.demo'), (r) => {
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
    const month = await db.asPlanReader((r) => r.usage.month(clinic('boreal')));
    expect(month.tokens).toBe(1019);
    expect(Date.parse(month.resets_at)).toBeGreaterThan(Date.now());
  });

  it('only admins read usage, and only their clinic', async () => {
    await expect(
      db.withUser(as('dra.lima@aurora.demo'), (r) =>
        r.usage.report({ from: '2026-01-01', to: '2026-01-31', granularity: 'day' }),
      ),
    ).rejects.toBeInstanceOf(ForbiddenError);
    // RLS, not only the repository: a member who is not an admin sees no row at all.
    const seen = await db.withUser(as('dra.lima@aurora.demo'), async (_r, tx) => {
      const a = await tx.query<{ n: number }>('select count(*)::int as n from public.agent_usage');
      const d = await tx.query<{ n: number }>('select count(*)::int as n from public.agent_usage_daily');
      return [must(a.rows[0], 'a row').n, must(d.rows[0], 'a row').n];
    });
    expect(seen).toEqual([0, 0]);
    const adminSees = await db.withUser(
      as('admin@boreal.demo'),
      async (_r, tx) =>
        (await tx.query<{ clinic_id: string }>('select distinct clinic_id from public.agent_usage_daily')).rows,
    );
    expect(adminSees).toEqual([{ clinic_id: clinic('boreal') }]);
  });

  it('a caller cannot record usage for another user or clinic, nor rewrite it', async () => {
    const lima = as('dra.lima@aurora.demo');
    await expect(
      db.withUser(lima, (_r, tx) =>
        tx.query(
          `insert into public.agent_usage (clinic_id, user_id, provider, model, input_tokens, output_tokens, duration_ms, outcome)
           values ($1, $2, 'local', 'm', 1, 1, 1, 'ok')`,
          [clinic('boreal'), lima.sub],
        ),
      ),
    ).rejects.toMatchObject({ code: '42501' });
    await expect(
      db.withUser(lima, (_r, tx) =>
        tx.query(
          `insert into public.agent_usage (clinic_id, user_id, provider, model, input_tokens, output_tokens, duration_ms, outcome)
           values ($1, $2, 'local', 'm', 1, 1, 1, 'ok')`,
          [clinic('aurora'), as('admin@aurora.demo').sub],
        ),
      ),
    ).rejects.toMatchObject({ code: '42501' });
    for (const sql of [
      'update public.agent_usage set input_tokens = 0',
      'delete from public.agent_usage',
      'update public.agent_usage_daily set input_tokens = 0',
      "insert into public.agent_usage_daily (clinic_id, day, provider) values (app.current_clinic_id(), current_date, 'x')",
    ]) {
      await expect(db.withUser(as('admin@aurora.demo'), (_r, tx) => tx.query(sql))).rejects.toMatchObject({
        code: '42501',
      });
    }
  });

  it('plans are readable by their clinic and writable by nobody but the owner', async () => {
    const admin = as('admin@aurora.demo');
    for (const sql of [
      `insert into public.clinic_plans (clinic_id, ai_limit) values (app.current_clinic_id(), 1000)`,
      'update public.plan_defaults set ai_limit = 1000',
    ]) {
      await expect(db.withUser(admin, (_r, tx) => tx.query(sql))).rejects.toMatchObject({ code: '42501' });
      await expect(db.asPlanReader((_r, tx) => tx.query(sql))).rejects.toMatchObject({ code: '42501' });
    }
    // The owner path (the plan CLI).
    const client = await owner.pool.connect();
    try {
      await createRepositories(client).plans.set(clinic('boreal'), { ai_limit: 7, ai_window_s: 60 });
      await createRepositories(client).plans.set(null, { monthly_ai_tokens: 123 });
    } finally {
      client.release();
    }
    const mine = await db.withUser(as('admin@boreal.demo'), (r) => r.plans.current());
    expect(mine.plan).toMatchObject({ ai_limit: 7, ai_window_s: 60, healthcare_limit: null });
    expect(mine.defaults.monthly_ai_tokens).toBe(123);
    // Another clinic's plan is invisible: aurora reads its own (no row) and the defaults.
    const aurora = await db.withUser(admin, async (r, tx) => {
      const rows = (await tx.query('select clinic_id from public.clinic_plans')).rows;
      return { rows, plan: (await r.plans.current()).plan };
    });
    expect(aurora).toEqual({ rows: [], plan: null });
  });

  it('the plan reader reads every clinic plan and month usage, and nothing else', async () => {
    const read = await db.asPlanReader(async (r, tx) => ({
      boreal: await r.plans.forClinic(clinic('boreal')),
      aurora: await r.plans.forClinic(clinic('aurora')),
      defaults: await r.plans.defaults(),
      month: await r.usage.month(clinic('aurora')),
      daily: (await tx.query('select count(*)::int as n from public.agent_usage_daily')).rows[0] as { n: number },
    }));
    expect(read.boreal.plan).toMatchObject({ ai_limit: 7 });
    expect(read.aurora.clinic_id).toBe(clinic('aurora'));
    expect(read.defaults?.monthly_ai_tokens).toBe(123);
    expect(read.month.tokens).toBeGreaterThanOrEqual(0);
    expect(read.daily.n).toBeGreaterThan(0);
    for (const sql of [
      'select id from public.patients limit 1',
      'select name from public.clinics limit 1',
      'select id from public.agent_usage limit 1',
      'select id from public.audit_log limit 1',
      `insert into public.agent_usage_daily (clinic_id, day, provider) values ('${clinic('aurora')}', current_date, 'x')`,
      `select app.audit('x', 'patient', null, '{}'::jsonb)`,
    ]) {
      await expect(db.asPlanReader((_r, tx) => tx.query(sql))).rejects.toMatchObject({ code: '42501' });
    }
  });
});

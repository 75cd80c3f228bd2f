import { Database } from '@neonpro/database';
import { createTestDatabase, type TestDatabase, must } from '@neonpro/testing';
import type pg from 'pg';

const TABLES = [
  'clinics',
  'clinic_members',
  'professionals',
  'patients',
  'patient_clinical_notes',
  'appointments',
  'consents',
  'audit_log',
  'chat_sessions',
  'chat_messages',
  'clinic_plans',
  'agent_usage',
  'agent_usage_daily',
];

/**
 * Every privilege any non-owner role holds on a public table: a new table or grant (in any later
 * migration) changes this list, so it is reviewed here rather than slipping through.
 */
const EXPECTED_GRANTS: Record<string, string[]> = {
  authenticated: [
    'agent_usage: INSERT, SELECT',
    'agent_usage_daily: SELECT',
    'appointments: INSERT, SELECT, UPDATE',
    'audit_log: SELECT',
    'chat_messages: DELETE, INSERT, SELECT, UPDATE',
    'chat_sessions: DELETE, INSERT, SELECT, UPDATE',
    'clinic_members: DELETE, INSERT, SELECT, UPDATE',
    'clinic_plans: SELECT',
    'clinics: SELECT, UPDATE',
    'consents: INSERT, SELECT, UPDATE',
    'patient_clinical_notes: DELETE, INSERT, SELECT, UPDATE',
    'patients: INSERT, SELECT, UPDATE',
    'plan_defaults: SELECT',
    'professionals: DELETE, INSERT, SELECT, UPDATE',
  ],
  neonpro_plan_reader: ['agent_usage_daily: SELECT', 'clinic_plans: SELECT', 'plan_defaults: SELECT'],
};

/**
 * Acting through plain SQL as the services' login (`set role authenticated` + JWT claims), the
 * way a direct Data API caller acts: the database itself enforces what the API promises.
 */
describe('least privilege: every role, every table, through SQL', () => {
  let tdb: TestDatabase;
  let svc: Database;
  let owner: Database;
  const subs: Record<string, string> = {};

  beforeAll(async () => {
    tdb = await createTestDatabase({ seed: true });
    svc = new Database({ url: tdb.serviceUrl, poolMax: 2 });
    owner = new Database({ url: tdb.url, poolMax: 1 });
    for (const r of (await owner.pool.query<{ id: string; email: string }>('select id, email from auth.users')).rows) {
      subs[r.email] = r.id;
    }
  });
  afterAll(async () => {
    await svc?.close();
    await owner?.close();
    await tdb?.drop();
  });

  const as = <T>(email: string, fn: (tx: pg.PoolClient) => Promise<T>) =>
    svc.withUser({ sub: must(subs[email], email) }, (_r, tx) => fn(tx as pg.PoolClient));
  const count = (email: string, table: string) =>
    as(
      email,
      async (tx) =>
        must((await tx.query<{ n: number }>(`select count(*)::int as n from public.${table}`)).rows[0], 'a row').n,
    );
  const code = async (p: Promise<unknown>) => p.then(() => 'ok').catch((e: { code?: string }) => e.code);
  /** An Aurora patient's id (the first or the last by id), read as the owner. */
  const auroraPatientId = async (which: 'first' | 'last'): Promise<string> => {
    const { rows } = await owner.pool.query<{ id: string }>(
      `select p.id from patients p join clinics c on c.id = p.clinic_id where c.slug = 'aurora'
        order by p.id ${which === 'first' ? 'asc' : 'desc'} limit 1`,
    );
    return must(rows[0], 'an Aurora patient').id;
  };

  it('the service login owns nothing, is no superuser and cannot read a table without set role', async () => {
    const c = await svc.pool.connect();
    try {
      const me = must(
        (
          await c.query<{ rolsuper: boolean; rolbypassrls: boolean; rolinherit: boolean; owned: number; app: string }>(
            `select r.rolsuper, r.rolbypassrls, r.rolinherit, current_setting('application_name') as app,
                  (select count(*)::int from pg_class where relowner = r.oid) as owned
             from pg_roles r where r.rolname = current_user`,
          )
        ).rows[0],
        'a row',
      );
      expect(me).toMatchObject({ rolsuper: false, rolbypassrls: false, rolinherit: false, owned: 0 });
      for (const t of TABLES) {
        expect(await code(c.query(`select 1 from public.${t} limit 1`))).toBe('42501');
      }
      expect(await code(c.query('set role service_role'))).toBe('42501');
      expect(await code(c.query('set role postgres'))).toBe('42501');
    } finally {
      c.release();
    }
  });

  it('every table forces RLS, and anon and public hold no privilege on any of them', async () => {
    const rows = (
      await owner.pool.query<{ relname: string; relforcerowsecurity: boolean; relrowsecurity: boolean }>(
        `select relname, relrowsecurity, relforcerowsecurity from pg_class
          where relnamespace = 'public'::regnamespace and relkind = 'r'`,
      )
    ).rows;
    expect(rows.map((r) => r.relname).sort()).toEqual(expect.arrayContaining(TABLES));
    for (const r of rows) {
      expect(r).toMatchObject({ relrowsecurity: true, relforcerowsecurity: true });
    }
    const grants = await owner.pool.query(
      `select table_name, grantee, privilege_type from information_schema.role_table_grants
        where table_schema = 'public' and grantee in ('anon', 'PUBLIC', 'service_role')`,
    );
    expect(grants.rows).toEqual([]);
  });

  it('each role holds exactly the table privileges it needs, and the plan reader only three columns of clinics', async () => {
    const rows = (
      await owner.pool.query<{ grantee: string; table_name: string; privileges: string }>(
        `select grantee, table_name, string_agg(privilege_type, ', ' order by privilege_type) as privileges
           from information_schema.role_table_grants
          where table_schema = 'public' and grantee not in ('postgres', current_user)
          group by grantee, table_name order by grantee, table_name`,
      )
    ).rows;
    const actual: Record<string, string[]> = {};
    for (const r of rows) {
      (actual[r.grantee] ??= []).push(`${r.table_name}: ${r.privileges}`);
    }
    expect(actual).toEqual(EXPECTED_GRANTS);
    const columns = (
      await owner.pool.query<{ column_name: string }>(
        `select column_name from information_schema.column_privileges
          where table_schema = 'public' and table_name = 'clinics' and grantee = 'neonpro_plan_reader' order by 1`,
      )
    ).rows.map((r) => r.column_name);
    expect(columns).toEqual(['id', 'slug', 'timezone']);
  });

  it('plans and usage: members read their plan; only admins read usage; nobody rewrites either', async () => {
    const aurora = must(
      (await owner.pool.query<{ id: string }>("select id from clinics where slug = 'aurora'")).rows[0],
      'a row',
    ).id;
    await owner.pool.query('insert into clinic_plans (clinic_id, ai_limit) values ($1, 5) on conflict do nothing', [
      aurora,
    ]);
    await as('recepcao@aurora.demo', (tx) =>
      tx.query(
        `insert into agent_usage (clinic_id, user_id, provider, model, input_tokens, output_tokens, tokens_reported,
           tool_calls, duration_ms, outcome) values (app.current_clinic_id(), auth.uid(), 'local', 'm', 1, 1, false, 0, 1, 'ok')`,
      ),
    );
    expect(await count('recepcao@aurora.demo', 'clinic_plans')).toBe(1);
    expect(await count('admin@boreal.demo', 'clinic_plans')).toBe(0);
    expect(await count('recepcao@aurora.demo', 'agent_usage')).toBe(0);
    expect(await count('dra.lima@aurora.demo', 'agent_usage_daily')).toBe(0);
    expect(await count('admin@aurora.demo', 'agent_usage')).toBeGreaterThan(0);
    expect(await count('admin@aurora.demo', 'agent_usage_daily')).toBeGreaterThan(0);
    for (const sql of [
      'update clinic_plans set ai_limit = 1000',
      'update plan_defaults set ai_limit = 1000',
      'update agent_usage set input_tokens = 0',
      'delete from agent_usage',
      'update agent_usage_daily set input_tokens = 0',
    ]) {
      expect({ sql, code: await code(as('admin@aurora.demo', (tx) => tx.query(sql))) }).toEqual({ sql, code: '42501' });
    }
    // The clinic's services (issue 14's column) follow the clinic row: members read, admins write.
    expect(await code(as('recepcao@aurora.demo', (tx) => tx.query('select procedures from clinics')))).toBe('ok');
    const updated = await as(
      'recepcao@aurora.demo',
      async (tx) => (await tx.query("update clinics set procedures = '[]'::jsonb")).rowCount,
    );
    expect(updated).toBe(0);
  });

  it('a table a later migration creates is closed until granted (default privileges)', async () => {
    await owner.pool.query('create table public.future_table (id int)');
    try {
      expect(await code(as('admin@aurora.demo', (tx) => tx.query('select * from public.future_table')))).toBe('42501');
      expect(await code(as('admin@aurora.demo', (tx) => tx.query('truncate public.future_table')))).toBe('42501');
    } finally {
      await owner.pool.query('drop table public.future_table');
    }
  });

  it('clinical notes: admins and professionals only; receptionists and other clinics see none', async () => {
    expect(await count('admin@aurora.demo', 'patient_clinical_notes')).toBe(50);
    expect(await count('dra.lima@aurora.demo', 'patient_clinical_notes')).toBe(50);
    expect(await count('recepcao@aurora.demo', 'patient_clinical_notes')).toBe(0);
    expect(await count('admin@boreal.demo', 'patient_clinical_notes')).toBe(50); // Boreal's own 50
    const auroraPatient = await auroraPatientId('first');
    expect(
      await code(
        as('recepcao@aurora.demo', (tx) =>
          tx.query(
            `insert into patient_clinical_notes (patient_id, clinic_id, notes) values ($1, app.current_clinic_id(), 'x')`,
            [auroraPatient],
          ),
        ),
      ),
    ).toBe('42501');
    // Another clinic's notes are not there to read.
    const seen = await as(
      'admin@boreal.demo',
      async (tx) =>
        (await tx.query('select 1 from patient_clinical_notes where patient_id = $1', [auroraPatient])).rowCount,
    );
    expect(seen).toBe(0);
  });

  it('audit log: direct inserts refused for everyone, reads admin-only, truncate and delete refused', async () => {
    await as('admin@aurora.demo', (tx) => tx.query("select app.audit('test.event', 'patient', null, '{}')"));
    for (const email of ['admin@aurora.demo', 'dra.lima@aurora.demo', 'recepcao@aurora.demo', 'admin@boreal.demo']) {
      expect(
        await code(
          as(email, (tx) =>
            tx.query(
              `insert into audit_log (clinic_id, actor_id, action, subject_type) values (app.current_clinic_id(), auth.uid(), 'forged', 'patient')`,
            ),
          ),
        ),
      ).toBe('42501');
      for (const sql of ['truncate audit_log', 'delete from audit_log', "update audit_log set action = 'x'"]) {
        expect(await code(as(email, (tx) => tx.query(sql)))).toBe('42501');
      }
    }
    expect(await count('admin@aurora.demo', 'audit_log')).toBeGreaterThan(0);
    expect(await count('dra.lima@aurora.demo', 'audit_log')).toBe(0);
    expect(await count('recepcao@aurora.demo', 'audit_log')).toBe(0);
    // Boreal's admin sees only Boreal's rows (none written yet).
    expect(await count('admin@boreal.demo', 'audit_log')).toBe(0);
    // The function records the verified actor, whatever a caller would like to claim.
    const row = must(
      (await owner.pool.query<{ actor_id: string }>("select actor_id from audit_log where action = 'test.event'"))
        .rows[0],
      'a row',
    );
    expect(row.actor_id).toBe(subs['admin@aurora.demo']);
  });

  it('tenancy on every table: another clinic sees none of Aurora’s rows; truncate refused everywhere', async () => {
    for (const t of TABLES) {
      const aurora = await as(
        'admin@boreal.demo',
        async (tx) =>
          must(
            (
              await tx.query<{ n: number }>(
                t === 'clinics'
                  ? "select count(*)::int as n from clinics where slug = 'aurora'"
                  : `select count(*)::int as n from public.${t} where clinic_id = (select id from clinics where slug = 'aurora')`,
              )
            ).rows[0],
            'a row',
          ).n,
      );
      expect({ t, aurora }).toEqual({ t, aurora: 0 });
      expect({ t, truncate: await code(as('admin@aurora.demo', (tx) => tx.query(`truncate public.${t}`))) }).toEqual({
        t,
        truncate: '42501',
      });
    }
  });

  it('an erased patient cannot be updated, even through SQL', async () => {
    const id = await auroraPatientId('last');
    await svc.withUser({ sub: must(subs['admin@aurora.demo'], 'admin@aurora.demo') }, (r) => r.patients.erase(id));
    expect(
      await code(
        as('admin@aurora.demo', (tx) => tx.query("update patients set full_name = 'De volta' where id = $1", [id])),
      ),
    ).toBe('42501');
  });
});

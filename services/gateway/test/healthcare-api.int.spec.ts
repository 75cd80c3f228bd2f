import { makeCpf } from '@neonpro/database';
import { type AuthFixture, createAuthFixture, freePort, must, uniquePrefix } from '@neonpro/testing';
import { SignJWT } from 'jose';
import pg from 'pg';
import { type GatewayApp, startGateway } from '../src/app.js';
import { gatewayUrl, testGatewayEnv } from './support/test-gateway.js';

const SECRET = 'gateway-test-jwt-secret-at-least-32-chars';

interface Json {
  [k: string]: unknown;
}

describe('gateway healthcare API (in-process gateway, auth emulator, fresh Postgres)', () => {
  let fx: AuthFixture;
  let gw: GatewayApp;
  let base: string;
  const tokens: Record<string, string> = {};

  const env = (extra: Record<string, string> = {}) =>
    testGatewayEnv(uniquePrefix('gw-hc'), {
      ...fx.env,
      DB_POOL_MAX: '4',
      SUPABASE_JWT_SECRET: SECRET,
      ...extra,
    });

  async function call(
    method: string,
    path: string,
    opts: { as?: string; token?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; body: Json; headers: Headers }> {
    const headers: Record<string, string> = { ...opts.headers };
    const token = opts.token ?? (opts.as ? tokens[opts.as] : undefined);
    if (token) {
      headers.authorization = `Bearer ${token}`;
    }
    if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
    }
    const r = await fetch(`${base}${path}`, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
    const text = await r.text();
    return { status: r.status, body: (text ? JSON.parse(text) : {}) as Json, headers: r.headers };
  }

  const login = async (email: string) => {
    const r = await call('POST', '/v1/auth/login', { body: { email, password: 'neonpro-demo' } });
    expect(r.status).toBe(200);
    return r.body;
  };

  beforeAll(async () => {
    fx = await createAuthFixture();
    gw = await startGateway(env());
    base = gatewayUrl(gw);
    for (const email of ['admin@aurora.demo', 'recepcao@aurora.demo', 'dra.lima@aurora.demo', 'admin@boreal.demo']) {
      tokens[email] = (await login(email)).access_token as string;
    }
  });

  afterAll(async () => {
    await gw?.close();
    await fx?.close();
  });

  it('connects as the least-privilege login, named neonpro-gateway for operators', async () => {
    expect((await call('GET', '/v1/me', { as: 'admin@aurora.demo' })).status).toBe(200);
    const admin = new pg.Client({ connectionString: fx.db.url });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ usename: string }>(
        `select distinct usename from pg_stat_activity where datname = $1 and application_name = 'neonpro-gateway'`,
        [fx.db.name],
      );
      expect(rows).toEqual([{ usename: 'neonpro_authenticator' }]);
    } finally {
      await admin.end();
    }
  });

  describe('auth', () => {
    it('logs in and refreshes through Supabase Auth, and /v1/me returns the principal', async () => {
      const s = await login('admin@aurora.demo');
      expect(s).toMatchObject({
        access_token: expect.any(String),
        refresh_token: expect.any(String),
        expires_in: 3600,
        token_type: 'bearer',
        user: { id: expect.any(String), email: 'admin@aurora.demo' },
      });
      const refreshed = await call('POST', '/v1/auth/refresh', { body: { refresh_token: s.refresh_token } });
      expect(refreshed.status).toBe(200);
      const me = await call('GET', '/v1/me', { token: refreshed.body.access_token as string });
      expect(me.status).toBe(200);
      expect(me.body).toEqual({
        user_id: (s.user as Json).id,
        email: 'admin@aurora.demo',
        clinic_id: expect.any(String),
        role: 'admin',
      });
    });

    it('wrong credentials → 401 invalid_credentials; bad refresh → 401; bad body → 400', async () => {
      const bad = await call('POST', '/v1/auth/login', { body: { email: 'admin@aurora.demo', password: 'nope' } });
      expect(bad.status).toBe(401);
      expect(bad.headers.get('content-type')).toContain('application/problem+json');
      expect(bad.body.code).toBe('invalid_credentials');
      const r = await call('POST', '/v1/auth/refresh', { body: { refresh_token: 'unknown-token' } });
      expect(r).toMatchObject({ status: 401, body: { code: 'invalid_refresh_token' } });
      const v = await call('POST', '/v1/auth/login', { body: { email: 'not-an-email' } });
      expect(v.status).toBe(400);
      expect((v.body.errors as { field: string }[]).map((e) => e.field).sort()).toEqual(['email', 'password']);
    });

    it('Supabase Auth unreachable → 503 upstream_unavailable', async () => {
      const other = await startGateway(
        env({ SUPABASE_URL: `http://127.0.0.1:${await freePort()}`, AUTH_UPSTREAM_TIMEOUT_MS: '1500' }),
      );
      try {
        const r = await fetch(`${gatewayUrl(other)}/v1/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: 'admin@aurora.demo', password: 'neonpro-demo' }),
        });
        expect(r.status).toBe(503);
        expect(((await r.json()) as Json).code).toBe('upstream_unavailable');
      } finally {
        await other.close();
      }
    });

    it('missing, expired, wrong-aud, alg none and tampered tokens → 401; HS256 with the secret is accepted', async () => {
      const me = await call('GET', '/v1/me', { as: 'admin@aurora.demo' });
      const sub = me.body.user_id as string;
      const hs = (aud: string, expOffset: number) =>
        new SignJWT({ role: 'authenticated', email: 'admin@aurora.demo' })
          .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
          .setSubject(sub)
          .setIssuer(fx.issuer)
          .setAudience(aud)
          .setIssuedAt()
          .setExpirationTime(Math.floor(Date.now() / 1000) + expOffset)
          .sign(new TextEncoder().encode(SECRET));
      expect((await call('GET', '/v1/me', { token: await hs('authenticated', 600) })).status).toBe(200);
      const noToken = await call('GET', '/v1/patients');
      expect(noToken).toMatchObject({ status: 401, body: { code: 'unauthorized' } });
      expect(noToken.headers.get('www-authenticate')).toBe('Bearer');
      expect((await call('GET', '/v1/me', { token: await hs('authenticated', -60) })).body.code).toBe('token_expired');
      expect((await call('GET', '/v1/me', { token: await hs('anon', 600) })).status).toBe(401);
      const t = must(tokens['admin@aurora.demo'], 'the admin token');
      const [, p] = t.split('.');
      expect((await call('GET', '/v1/me', { token: `eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.${p}.` })).status).toBe(401);
      expect((await call('GET', '/v1/me', { token: `${t.slice(0, -3)}abc` })).status).toBe(401);
    });
  });

  describe('patients', () => {
    it('lists with keyset pagination and searches accent-insensitively and by CPF', async () => {
      const first = await call('GET', '/v1/patients?limit=20', { as: 'admin@aurora.demo' });
      expect(first.status).toBe(200);
      expect((first.body.data as Json[]).length).toBe(20);
      const ids = new Set((first.body.data as Json[]).map((p) => p.id));
      let cursor = first.body.next_cursor as string | null;
      while (cursor) {
        const next = await call('GET', `/v1/patients?limit=20&cursor=${cursor}`, { as: 'admin@aurora.demo' });
        for (const p of next.body.data as Json[]) {
          ids.add(p.id);
        }
        cursor = next.body.next_cursor as string | null;
      }
      expect(ids.size).toBe(50);
      const created = await call('POST', '/v1/patients', {
        as: 'admin@aurora.demo',
        body: { full_name: 'Íris Gonçalves Assunção', cpf: '390.533.447-05', birth_date: '1990-04-02' },
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ cpf: '39053344705', full_name: 'Íris Gonçalves Assunção' });
      const byName = await call('GET', `/v1/patients?search=${encodeURIComponent('iris goncalves assuncao')}`, {
        as: 'admin@aurora.demo',
      });
      expect((byName.body.data as Json[]).map((p) => p.id)).toEqual([created.body.id]);
      const byCpf = await call('GET', '/v1/patients?search=390.533.447-05', { as: 'admin@aurora.demo' });
      expect((byCpf.body.data as Json[])[0]?.id).toBe(created.body.id);
      // Another clinic's search never sees it.
      const boreal = await call('GET', '/v1/patients?search=39053344705', { as: 'admin@boreal.demo' });
      expect(boreal.body.data).toEqual([]);
    });

    it('validates input: 400 problem+json listing each bad field, never a 500', async () => {
      const r = await call('POST', '/v1/patients', {
        as: 'admin@aurora.demo',
        body: { full_name: 'X', cpf: '111.111.111-11', email: 'nope', extra: 1 },
      });
      expect(r.status).toBe(400);
      expect((r.body.errors as { field: string }[]).map((e) => e.field).sort()).toEqual([
        '(body)',
        'cpf',
        'email',
        'full_name',
      ]);
      expect((await call('GET', '/v1/patients/not-a-uuid', { as: 'admin@aurora.demo' })).status).toBe(400);
      expect((await call('GET', '/v1/patients?limit=0', { as: 'admin@aurora.demo' })).status).toBe(400);
      expect((await call('GET', '/v1/patients?cursor=garbage', { as: 'admin@aurora.demo' })).status).toBe(400);
      expect(
        (
          await call('PATCH', '/v1/patients/00000000-0000-0000-0000-000000000000', {
            as: 'admin@aurora.demo',
            body: {},
          })
        ).status,
      ).toBe(400);
      const dup = await call('POST', '/v1/patients', {
        as: 'admin@aurora.demo',
        body: { full_name: 'Outra Pessoa', cpf: '39053344705' },
      });
      expect(dup).toMatchObject({ status: 409, body: { code: 'patient_exists' } });
    });

    it('another clinic’s patient id → 404 on every route (never 403)', async () => {
      const aurora = (await call('GET', '/v1/patients?limit=1', { as: 'admin@aurora.demo' })).body.data as Json[];
      const id = must(aurora[0], 'aurora[0]').id as string;
      for (const [method, path, body] of [
        ['GET', `/v1/patients/${id}`],
        ['PATCH', `/v1/patients/${id}`, { phone: '1' }],
        ['GET', `/v1/patients/${id}/export`],
        ['DELETE', `/v1/patients/${id}`],
        ['GET', `/v1/patients/${id}/consents`],
        ['POST', `/v1/patients/${id}/consents`, { purpose: 'x', legal_basis: 'consent' }],
      ] as [string, string, unknown?][]) {
        const r = await call(method, path, { as: 'admin@boreal.demo', body });
        expect([method, path, r.status, r.body.code]).toEqual([method, path, 404, 'not_found']);
      }
    });

    it('receptionists never receive clinical_notes; professionals do', async () => {
      const list = await call('GET', '/v1/patients?limit=5', { as: 'recepcao@aurora.demo' });
      expect(list.status).toBe(200);
      for (const p of list.body.data as Json[]) {
        expect(p).not.toHaveProperty('clinical_notes');
      }
      const id = must((list.body.data as Json[])[0], '(list.body.data as Json[])[0]').id as string;
      expect(await call('GET', `/v1/patients/${id}`, { as: 'recepcao@aurora.demo' })).not.toHaveProperty(
        'body.clinical_notes',
      );
      const write = await call('PATCH', `/v1/patients/${id}`, {
        as: 'recepcao@aurora.demo',
        body: { clinical_notes: 'x' },
      });
      expect(write.status).toBe(403);
      const doc = await call('GET', `/v1/patients/${id}`, { as: 'dra.lima@aurora.demo' });
      expect(doc.body.clinical_notes).toEqual(expect.any(String));
    });
  });

  describe('appointments, consents, audit, export, erasure', () => {
    it('lists professionals, books, rejects overlap with 409 appointment_conflict, reschedules and cancels', async () => {
      const pros = await call('GET', '/v1/professionals', { as: 'admin@aurora.demo' });
      expect(pros.status).toBe(200);
      const lima = (pros.body.data as Json[]).find((p) => p.full_name === 'Dra. Lima')!;
      expect(Object.keys(lima).sort()).toEqual(['full_name', 'id', 'specialty']);
      const patient = must(
        ((await call('GET', '/v1/patients?limit=1', { as: 'admin@aurora.demo' })).body.data as Json[])[0],
        'the first of (call("GET", "/v1/patients?limit=1", { as: "…',
      );
      const body = {
        patient_id: patient.id,
        professional_id: lima.id,
        starts_at: '2033-02-01T12:00:00Z',
        duration_minutes: 60,
        procedure: 'Avaliação',
        idempotency_key: 'api-1',
      };
      const booked = await call('POST', '/v1/appointments', { as: 'recepcao@aurora.demo', body });
      expect(booked.status).toBe(201);
      expect(booked.body).toMatchObject({
        ends_at: '2033-02-01T13:00:00.000Z',
        status: 'scheduled',
        patient_id: patient.id,
      });
      const replay = await call('POST', '/v1/appointments', { as: 'recepcao@aurora.demo', body });
      expect(replay).toMatchObject({ status: 200, body: { id: booked.body.id } });
      const clash = await call('POST', '/v1/appointments', {
        as: 'admin@aurora.demo',
        body: { ...body, idempotency_key: undefined, starts_at: '2033-02-01T12:30:00Z' },
      });
      expect(clash).toMatchObject({ status: 409, body: { code: 'appointment_conflict' } });
      expect(clash.headers.get('content-type')).toContain('application/problem+json');
      const moved = await call('PATCH', `/v1/appointments/${booked.body.id as string}`, {
        as: 'admin@aurora.demo',
        body: { starts_at: '2033-02-02T12:00:00Z', ends_at: '2033-02-02T13:00:00Z', status: 'confirmed' },
      });
      expect(moved).toMatchObject({
        status: 200,
        body: { status: 'confirmed', starts_at: '2033-02-02T12:00:00.000Z' },
      });
      const listed = await call(
        'GET',
        `/v1/appointments?from=2033-01-01T00:00:00Z&to=2034-01-01T00:00:00Z&professional_id=${lima.id as string}`,
        { as: 'admin@aurora.demo' },
      );
      expect((listed.body.data as Json[]).map((a) => a.id)).toEqual([booked.body.id]);
      expect(listed.body.next_cursor).toBeNull();
      // Boreal sees none of it.
      expect(
        (await call('GET', `/v1/appointments/${booked.body.id as string}`, { as: 'admin@boreal.demo' })).status,
      ).toBe(404);
      const borealList = await call('GET', '/v1/appointments?from=2033-01-01T00:00:00Z', { as: 'admin@boreal.demo' });
      expect(borealList.body.data).toEqual([]);
      const cancelled = await call('PATCH', `/v1/appointments/${booked.body.id as string}`, {
        as: 'admin@aurora.demo',
        body: { status: 'cancelled' },
      });
      expect(cancelled.body.status).toBe('cancelled');
      const bad = await call('POST', '/v1/appointments', {
        as: 'admin@aurora.demo',
        body: { ...body, starts_at: 'tomorrow', status: 'done' },
      });
      expect(bad.status).toBe(400);
    });

    it('lists appointments with keyset pagination', async () => {
      const seen = new Set<unknown>();
      let path = '/v1/appointments?limit=25';
      for (;;) {
        const r = await call('GET', path, { as: 'admin@boreal.demo' });
        for (const a of r.body.data as Json[]) {
          seen.add(a.id);
        }
        if (!r.body.next_cursor) {
          break;
        }
        path = `/v1/appointments?limit=25&cursor=${r.body.next_cursor as string}`;
      }
      expect(seen.size).toBe(60);
    });

    it('consents, audit (admins only), export and idempotent erasure', async () => {
      const created = await call('POST', '/v1/patients', {
        as: 'admin@aurora.demo',
        body: {
          full_name: 'Teodoro Quintela',
          cpf: makeCpf('713245678'),
          email: 'teo@example.com',
          clinical_notes: 'Nota',
        },
      });
      const id = created.body.id as string;
      const consent = await call('POST', `/v1/patients/${id}/consents`, {
        as: 'admin@aurora.demo',
        body: { purpose: 'marketing', legal_basis: 'consent' },
      });
      expect(consent.status).toBe(201);
      const revoked = await call('PATCH', `/v1/patients/${id}/consents/${consent.body.id as string}`, {
        as: 'admin@aurora.demo',
        body: { revoked: true },
      });
      expect(revoked.body.revoked_at).toEqual(expect.any(String));
      expect(
        ((await call('GET', `/v1/patients/${id}/consents`, { as: 'admin@aurora.demo' })).body.data as Json[]).length,
      ).toBe(1);

      const exported = await call('GET', `/v1/patients/${id}/export`, { as: 'admin@aurora.demo' });
      expect(exported.status).toBe(200);
      expect(exported.body).toMatchObject({
        patient: { id, full_name: 'Teodoro Quintela', email: 'teo@example.com' },
        appointments: [],
        consents: [expect.objectContaining({ id: consent.body.id, revoked_at: expect.any(String) })],
      });
      expect((await call('GET', `/v1/patients/${id}/export`, { as: 'recepcao@aurora.demo' })).status).toBe(403);

      const audit = await call('GET', `/v1/audit?subject_id=${id}`, { as: 'admin@aurora.demo' });
      expect(audit.status).toBe(200);
      const actions = (audit.body.data as Json[]).map((a) => a.action);
      expect(actions).toEqual(
        expect.arrayContaining(['patient.create', 'consent.grant', 'consent.revoke', 'consent.list', 'patient.export']),
      );
      expect((audit.body.data as Json[])[0]).toMatchObject({
        request_id: expect.any(String),
        actor_id: expect.any(String),
      });
      expect((await call('GET', '/v1/audit', { as: 'recepcao@aurora.demo' })).status).toBe(403);
      expect((await call('GET', '/v1/audit', { as: 'dra.lima@aurora.demo' })).status).toBe(403);
      const borealAudit = await call('GET', `/v1/audit?subject_id=${id}`, { as: 'admin@boreal.demo' });
      expect(borealAudit.body.data).toEqual([]);

      // A search that returned the patient is part of "who saw their data"; the row's request id
      // is the gateway's own, the client's X-Request-Id (echoed) only a detail.
      const found = await call('GET', '/v1/patients?search=Teodoro%20Quintela', {
        as: 'recepcao@aurora.demo',
        headers: { 'x-request-id': 'my-own-id' },
      });
      expect(found.headers.get('x-request-id')).toBe('my-own-id');
      expect((found.body.data as Json[]).map((p) => p.id)).toEqual([id]);
      const seen = await call('GET', `/v1/audit?subject_id=${id}`, { as: 'admin@aurora.demo' });
      const search = (seen.body.data as Json[]).find((a) => a.action === 'patient.search');
      expect(search).toMatchObject({
        request_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        details: expect.objectContaining({ client_request_id: 'my-own-id', patient_ids: [id] }),
      });
      const forged = await call('GET', '/v1/patients?search=x', {
        as: 'recepcao@aurora.demo',
        headers: { 'x-request-id': String(search!.request_id) },
      });
      expect(forged.status).toBe(200);
      const rows = (await call('GET', '/v1/audit?limit=200', { as: 'admin@aurora.demo' })).body.data as Json[];
      expect(rows.filter((a) => a.request_id === search!.request_id)).toHaveLength(1);

      const erased = await call('DELETE', `/v1/patients/${id}`, { as: 'admin@aurora.demo' });
      expect(erased).toMatchObject({ status: 200, body: { id, already_erased: false } });
      const again = await call('DELETE', `/v1/patients/${id}`, { as: 'admin@aurora.demo' });
      expect(again).toMatchObject({ status: 200, body: { already_erased: true } });
      const after = await call('GET', `/v1/patients/${id}`, { as: 'admin@aurora.demo' });
      expect(after.body).toMatchObject({
        cpf: null,
        email: null,
        clinical_notes: null,
        anonymized_at: expect.any(String),
      });
      expect(after.body.full_name).not.toContain('Teodoro');
      expect((await call('DELETE', `/v1/patients/${id}`, { as: 'recepcao@aurora.demo' })).status).toBe(403);
    });
  });

  describe('database admission', () => {
    it('a clinic route waits for admission; past DB_ADMISSION_QUEUE it gets a fast 503, other routes never wait', async () => {
      const created = await call('POST', '/v1/patients', {
        as: 'admin@aurora.demo',
        body: { full_name: 'Admissão Teste', cpf: makeCpf('613245671'), birth_date: '1991-05-06' },
      });
      expect(created.status).toBe(201);
      const id = created.body.id as string;
      const gated = await startGateway(env({ DB_ADMISSION_LIMIT: '1', DB_ADMISSION_QUEUE: '0' }));
      const url = gatewayUrl(gated);
      const auth = { authorization: `Bearer ${must(tokens['admin@aurora.demo'], 'admin token')}` };
      const admin = new pg.Client({ connectionString: fx.db.url });
      // Polls from outside the locking transaction: inside it, pg_stat_activity is read once and
      // kept for the transaction (a poll before the PATCH waits would never see it wait).
      const watcher = new pg.Client({ connectionString: fx.db.url });
      await Promise.all([admin.connect(), watcher.connect()]);
      try {
        // Patients locked against writes elsewhere: the PATCH takes the only slot and waits in Postgres.
        await admin.query('begin');
        await admin.query('lock table public.patients in share mode');
        const held = fetch(`${url}/v1/patients/${id}`, {
          method: 'PATCH',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({ phone: '+55 11 98888-7777' }),
        });
        let settled: number | undefined;
        void held.then((r) => (settled = r.status));
        for (;;) {
          expect(settled).toBeUndefined(); // the PATCH must be waiting, not answered
          // A pause between polls: a tight loop of queries starves the in-process gateway.
          await new Promise((r) => setTimeout(r, 20));
          const { rows } = await watcher.query<{ n: number }>(
            `select count(*)::int as n from pg_stat_activity
              where datname = $1 and application_name = 'neonpro-gateway' and wait_event_type = 'Lock'`,
            [fx.db.name],
          );
          if (rows[0]?.n === 1) {
            break;
          }
        }
        const refused = await fetch(`${url}/v1/patients/${id}`, { headers: auth });
        expect(refused.status).toBe(503);
        expect(refused.headers.get('retry-after')).toBe('1');
        expect(refused.headers.get('content-type')).toContain('application/problem+json');
        expect(((await refused.json()) as Json).code).toBe('upstream_unavailable');
        // Not database work: never gated.
        expect((await fetch(`${url}/health/ready`)).status).toBe(200);
        const metrics = await (await fetch(`${url}/metrics`)).text();
        expect(metrics).toMatch(/^gateway_db_admission_admitted(\{[^}]*\})? 1$/m);
        // Counted with the policies' own refusals, where the dashboard's "Calls refused" panel reads.
        expect(metrics).toMatch(
          /^gateway_policy_rejections_total\{(?=[^}]*name="postgres")(?=[^}]*reason="admission_full")[^}]*\} 1$/m,
        );

        await admin.query('commit');
        expect((await held).status).toBe(200);
        const after = await fetch(`${url}/v1/patients/${id}`, { headers: auth });
        expect(after.status).toBe(200);
        expect(((await after.json()) as Json).phone).toBe('+55 11 98888-7777');
      } finally {
        await admin.query('rollback').catch(() => undefined);
        await Promise.all([admin.end(), watcher.end()]);
        await gated.close();
      }
    });
  });

  describe('docs and readiness', () => {
    it('serves the OpenAPI document and the Swagger UI', async () => {
      const doc = await fetch(`${base}/docs/openapi.json`);
      expect(doc.status).toBe(200);
      const json = (await doc.json()) as { paths: Record<string, unknown> };
      expect(Object.keys(json.paths)).toEqual(
        expect.arrayContaining([
          '/v1/auth/login',
          '/v1/me',
          '/v1/patients',
          '/v1/patients/{id}',
          '/v1/appointments',
          '/v1/audit',
        ]),
      );
      expect((await fetch(`${base}/docs`)).status).toBe(200);
    });

    it('reports Postgres in readiness', async () => {
      const r = (await (await fetch(`${base}/health/ready`)).json()) as { checks: Record<string, { ok: boolean }> };
      expect(r.checks.postgres?.ok).toBe(true);
    });
  });
});

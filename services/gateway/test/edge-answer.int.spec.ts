import { type AuthFixture, createAuthFixture, DEMO_USERS, uniquePrefix } from '@neonpro/testing';
import pg from 'pg';
import { type GatewayApp, startGateway } from '../src/app.js';
import { gatewayUrl, testGatewayEnv, testRedisEnv } from './support/test-gateway.js';

interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

/**
 * The healthcare reads marked @AnsweredAtEdge: a caller the gateway already knows is answered in
 * the route's preHandler (EdgeAnswers), without Nest; anyone else by Nest. Both paths must give the
 * same answer, count the same limit and write the same audit row. Real gateway, Postgres, Redis and
 * auth emulator. A fresh token is unknown, so its first request takes Nest's path and its second
 * the edge's; `gateway_edge_answers_total` tells which one answered. Twice: with the in-memory
 * limiter (every hit counted without waiting) and with Redis, where below 16 hits left each hit is
 * a round trip (the waiting count, on both paths).
 */
describe.each([
  ['in-memory limiter', false],
  ['Redis limiter', true],
])('healthcare reads answered at the edge (%s)', (_store, redis) => {
  let fx: AuthFixture;
  let gw: GatewayApp;
  let base: string;
  let admin: pg.Client;
  let auroraPatient: string;
  let borealPatient: string;
  let auroraAppointment: string;
  let consentedPatient: string;
  const LIMIT = 20;

  const get = async (path: string, token: string): Promise<Answer> => {
    const r = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
    const text = await r.text();
    return { status: r.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown>, headers: r.headers };
  };

  const edgeAnswers = async (route: string): Promise<number> => {
    const text = await (await fetch(`${base}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`gateway_edge_answers_total{route="${route}",`));
    return Number(line?.split(' ')[1] ?? 0);
  };

  /** The request's answer, and which path gave it. */
  const answered = async (route: string, path: string, token: string): Promise<Answer & { edge: boolean }> => {
    const before = await edgeAnswers(route);
    const answer = await get(path, token);
    const delta = (await edgeAnswers(route)) - before;
    expect([0, 1]).toContain(delta);
    return { ...answer, edge: delta === 1 };
  };

  /** Nest's answer (first request of a fresh token), then the edge's (its second). */
  const bothPaths = async (route: string, path: string, email: string): Promise<[Answer, Answer]> => {
    const token = await fx.token(email);
    const nest = await answered(route, path, token);
    const edge = await answered(route, path, token);
    expect([nest.edge, edge.edge]).toEqual([false, true]);
    return [nest, edge];
  };

  const auditRows = async (requestId: string | null): Promise<number> => {
    const { rows } = await admin.query<{ n: number }>(
      'select count(*)::int as n from audit_log where request_id = $1',
      [requestId],
    );
    return rows[0]!.n;
  };

  const headerNames = (h: Headers): string[] => [...h.keys()].filter((k) => k !== 'date').sort();

  beforeAll(async () => {
    fx = await createAuthFixture();
    const prefix = uniquePrefix('gw-edge-answer');
    gw = await startGateway(
      testGatewayEnv(prefix, {
        ...fx.env,
        ...(redis ? testRedisEnv(prefix) : {}),
        RATE_LIMIT_HEALTHCARE_LIMIT: String(LIMIT),
      }),
    );
    base = gatewayUrl(gw);
    admin = new pg.Client({ connectionString: fx.db.url });
    await admin.connect();
    const one = async (sql: string, slug: string): Promise<string> =>
      (await admin.query<{ id: string }>(sql, [slug])).rows[0]!.id;
    const patientOf = `select p.id from patients p join clinics c on c.id = p.clinic_id where c.slug = $1 order by p.id limit 1`;
    auroraPatient = await one(patientOf, 'aurora');
    borealPatient = await one(patientOf, 'boreal');
    consentedPatient = await one(
      `select k.patient_id as id from consents k join clinics c on c.id = k.clinic_id where c.slug = $1 order by k.patient_id limit 1`,
      'aurora',
    );
    auroraAppointment = await one(
      `select a.id from appointments a join clinics c on c.id = a.clinic_id where c.slug = $1 order by a.id limit 1`,
      'aurora',
    );
  });

  afterAll(async () => {
    await admin?.end();
    await gw?.close();
    await fx?.close();
  });

  it.each<[route: string, path: () => string, user: string, audited: number]>([
    ['/v1/patients/:id', () => `/v1/patients/${auroraPatient}`, DEMO_USERS.auroraReception, 1],
    ['/v1/patients', () => '/v1/patients?search=silva&limit=5', DEMO_USERS.auroraReception, 1],
    ['/v1/appointments/:id', () => `/v1/appointments/${auroraAppointment}`, DEMO_USERS.auroraReception, 1],
    ['/v1/appointments', () => '/v1/appointments?limit=5', DEMO_USERS.auroraReception, 1],
    ['/v1/patients/:id/consents', () => `/v1/patients/${consentedPatient}/consents`, DEMO_USERS.auroraReception, 1],
    // Not patient data, and the audit log itself: no audit row (as on Nest's path).
    ['/v1/professionals', () => '/v1/professionals', DEMO_USERS.auroraReception, 0],
    ['/v1/audit', () => '/v1/audit?limit=5', DEMO_USERS.auroraAdmin, 0],
  ])('%s: a known caller gets the answer Nest gives, counted and audited alike', async (route, path, user, audited) => {
    const [nest, edge] = await bothPaths(route, path(), user);
    expect(nest.status).toBe(200);
    expect(edge.status).toBe(200);
    expect(edge.body).toEqual(nest.body);
    // A real answer: the record, or a page with rows in it.
    expect(edge.body.id ?? (edge.body.data as unknown[]).length).toBeTruthy();
    expect(headerNames(edge.headers)).toEqual(headerNames(nest.headers));
    for (const h of [
      'content-type',
      'cache-control',
      'content-security-policy',
      'x-frame-options',
      'ratelimit-policy',
    ]) {
      expect(edge.headers.get(h)).toBe(nest.headers.get(h));
    }
    // One hit each: the remaining count goes down by one per request, whichever path counted it.
    const remaining = (a: Answer) => Number(a.headers.get('x-ratelimit-remaining'));
    expect(remaining(edge)).toBe(remaining(nest) - 1);
    expect(edge.headers.get('server-timing')).toMatch(/^total;dur=[\d.]+, auth;dur=[\d.]+/);
    // A patient-data read is audited in its own transaction, under the id in the answer.
    expect(await auditRows(nest.headers.get('x-request-id'))).toBe(audited);
    expect(await auditRows(edge.headers.get('x-request-id'))).toBe(audited);
  });

  it('answers HEAD as Nest does: the same headers, no body', async () => {
    const token = await fx.token(DEMO_USERS.auroraReception);
    const head = async (): Promise<{ r: Response; edge: boolean; text: string }> => {
      const before = await edgeAnswers('/v1/patients/:id');
      const r = await fetch(`${base}/v1/patients/${auroraPatient}`, {
        method: 'HEAD',
        headers: { authorization: `Bearer ${token}` },
      });
      const text = await r.text();
      return { r, text, edge: (await edgeAnswers('/v1/patients/:id')) - before === 1 };
    };
    const nest = await head();
    const edge = await head();
    expect([nest.edge, edge.edge]).toEqual([false, true]);
    expect(edge.r.status).toBe(200);
    expect(edge.text).toBe('');
    expect(headerNames(edge.r.headers)).toEqual(headerNames(nest.r.headers));
    expect(Number(edge.r.headers.get('content-length'))).toBeGreaterThan(0);
    expect(edge.r.headers.get('content-length')).toBe(nest.r.headers.get('content-length'));
  });

  it("answers the audit log's 403 to a non-admin, as Nest does", async () => {
    const [nest, edge] = await bothPaths('/v1/audit', '/v1/audit', DEMO_USERS.auroraReception);
    expect(nest.status).toBe(403);
    expect(edge.status).toBe(403);
    const { request_id: _e, ...edgeProblem } = edge.body;
    const { request_id: _n, ...nestProblem } = nest.body;
    expect(edgeProblem).toEqual(nestProblem);
    expect(edgeProblem).toMatchObject({ code: 'forbidden' });
  });

  it("answers another clinic's patient 404, as Nest does", async () => {
    const [nest, edge] = await bothPaths('/v1/patients/:id', `/v1/patients/${borealPatient}`, DEMO_USERS.auroraAdmin);
    expect(nest.status).toBe(404);
    expect(edge.status).toBe(404);
    expect(edge.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    const { request_id: edgeId, ...edgeProblem } = edge.body;
    const { request_id: nestId, ...nestProblem } = nest.body;
    expect(edgeId).toBe(edge.headers.get('x-request-id'));
    expect(nestId).not.toBe(edgeId);
    expect(edgeProblem).toEqual(nestProblem);
    expect(edgeProblem).toMatchObject({ status: 404, code: 'not_found' });
  });

  it.each([
    ['/v1/patients/:id', '/v1/patients/not-a-uuid'],
    ['/v1/appointments', '/v1/appointments?limit=5000&status=maybe'],
  ])('%s: refuses bad input with the same 400 problem as Nest', async (route, path) => {
    const [nest, edge] = await bothPaths(route, path, DEMO_USERS.auroraAdmin);
    expect(nest.status).toBe(400);
    expect(edge.status).toBe(400);
    const { request_id: _e, ...edgeProblem } = edge.body;
    const { request_id: _n, ...nestProblem } = nest.body;
    expect(edgeProblem).toEqual(nestProblem);
    expect((edgeProblem.errors as unknown[]).length).toBeGreaterThan(0);
  });

  it('refuses past the tier limit with the 429 problem, counting each request once', async () => {
    const token = await fx.token(DEMO_USERS.auroraLima);
    const path = `/v1/patients/${auroraPatient}`;
    const route = '/v1/patients/:id';
    const seen: number[] = [];
    for (let i = 0; i < LIMIT; i++) {
      const r = await answered(route, path, token);
      expect(r.status).toBe(200);
      seen.push(Number(r.headers.get('x-ratelimit-remaining')));
      expect(r.edge).toBe(i > 0);
    }
    expect(seen).toEqual(Array.from({ length: LIMIT }, (_, i) => LIMIT - 1 - i));
    const refused = await answered(route, path, token);
    expect(refused.edge).toBe(true);
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ status: 429, code: 'rate_limited', tier: 'healthcare' });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get('ratelimit')).toMatch(/^"healthcare";r=0;t=\d+$/);
    // Refused before the handler: no read, no audit row.
    expect(await auditRows(refused.headers.get('x-request-id'))).toBe(0);
  });
});

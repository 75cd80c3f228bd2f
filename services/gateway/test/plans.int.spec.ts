import { connect, type NatsConnection } from '@nats-io/transport-node';
import { plansChangedSubject } from '@neonpro/contracts';
import {
  type AuthFixture,
  createAuthFixture,
  DEMO_USERS,
  NATS_URL,
  uniquePrefix,
  waitFor,
  must,
} from '@neonpro/testing';
import pg from 'pg';
import { type GatewayApp, startGateway } from '../src/app.js';
import { ScriptedAgent } from './support/scripted-agent.js';

/** Plan-driven limits in one gateway: plans written as the owner, then the CLI's broadcast. */
describe('gateway limits from clinic plans (real Postgres and NATS)', () => {
  const prefix = uniquePrefix('gw-plans');
  let fx: AuthFixture;
  let gw: GatewayApp;
  let nc: NatsConnection;
  let agent: ScriptedAgent;
  let base: string;
  const tokens: Record<string, string> = {};
  const token = (who: keyof typeof DEMO_USERS): string => must(tokens[who], `a token for ${who}`);

  beforeAll(async () => {
    fx = await createAuthFixture();
    gw = await startGateway({
      ...fx.env,
      NATS_URL,
      NATS_SUBJECT_PREFIX: prefix,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      RATE_LIMIT_AI_LIMIT: '1000',
    });
    base = `http://127.0.0.1:${gw.port}`;
    nc = await connect({ servers: NATS_URL });
    agent = await ScriptedAgent.start(nc, prefix);
    await nc.flush();
    for (const [k, email] of Object.entries(DEMO_USERS)) {
      tokens[k] = await fx.token(email);
    }
  });

  afterAll(async () => {
    agent?.stop();
    await gw?.close();
    await nc?.drain();
    await fx?.close();
  });

  /** What the plan CLI does: write as the owner, then broadcast. */
  async function setPlan(slug: string, fields: Record<string, number>): Promise<void> {
    const c = new pg.Client({ connectionString: fx.db.url });
    await c.connect();
    try {
      const cols = Object.keys(fields);
      const { rows } = await c.query<{ id: string }>(
        `insert into public.clinic_plans (clinic_id, ${cols.join(', ')})
         select id, ${cols.map((_, i) => `$${i + 2}`).join(', ')} from public.clinics where slug = $1
         on conflict (clinic_id) do update set ${cols.map((f) => `${f} = excluded.${f}`).join(', ')}
         returning clinic_id as id`,
        [slug, ...Object.values(fields)],
      );
      nc.publish(plansChangedSubject(prefix), JSON.stringify({ clinic_id: must(rows[0], 'rows[0]').id }));
      await nc.flush();
    } finally {
      await c.end();
    }
  }

  const chat = (token: string) =>
    fetch(`${base}/v1/ai/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ message: 'oi' }),
    });
  const get = (path: string, token: string) =>
    fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });

  it("the clinic aggregate of the ai tier refuses a clinic's users together; other clinics keep chatting", async () => {
    // Warm the cache with the default plan first: the change must arrive by invalidation or TTL.
    expect((await chat(token('auroraAdmin'))).status).toBe(200);
    await setPlan('aurora', { ai_clinic_limit: 3, ai_clinic_window_s: 60 });
    const refused = (await waitFor(
      async () => {
        const r = await chat(token('auroraReception'));
        return r.status === 429 ? r : undefined;
      },
      'the clinic aggregate to refuse',
      30000,
      100,
    ))!;
    expect(await refused.json()).toMatchObject({ code: 'rate_limited', tier: 'ai_clinic' });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    // Every aurora user is now refused (the aggregate), while the user tier itself is far from full.
    const lima = await chat(token('auroraLima'));
    expect(lima.status).toBe(429);
    expect(lima.headers.get('ratelimit-policy')).toBe('"ai";q=1000;w=60');
    expect((await chat(token('borealAdmin'))).status).toBe(200);
    expect(await (await fetch(`${base}/metrics`)).text()).toMatch(
      /gateway_quota_rejections_total\{tier="ai_clinic"[^}]*\} [1-9]/,
    );
  });

  it("a user's healthcare limit comes from the clinic plan", async () => {
    await setPlan('boreal', { healthcare_limit: 2, healthcare_window_s: 900 });
    const refused = (await waitFor(
      async () => {
        const r = await get('/v1/professionals', token('borealAdmin'));
        return r.status === 429 ? r : undefined;
      },
      'the plan healthcare limit',
      30000,
      100,
    ))!;
    expect(refused.headers.get('ratelimit-policy')).toBe('"healthcare";q=2;w=900');
    expect(await refused.json()).toMatchObject({ code: 'rate_limited', tier: 'healthcare' });
    // Another clinic keeps the default numbers.
    const other = await get('/v1/professionals', token('auroraAdmin'));
    expect(other.status).toBe(200);
    expect(other.headers.get('ratelimit-policy')).toBe('"healthcare";q=50;w=900');
  });

  it('ignores an invalid plans.changed message and validates the usage query', async () => {
    nc.publish(plansChangedSubject(prefix), '{"clinic_id": 42}');
    nc.publish(plansChangedSubject(prefix), 'not json');
    await nc.flush();
    const bad = await get('/v1/clinic/usage?granularity=hour&from=2026-13-01', token('auroraAdmin'));
    expect(bad.status).toBe(400);
    const problem = (await bad.json()) as { code: string; errors: { field: string }[] };
    expect(problem.code).toBe('invalid_request');
    expect(problem.errors.map((e) => e.field).sort()).toEqual(['from', 'granularity']);
    expect((await get('/v1/clinic/plan', token('auroraAdmin'))).status).toBe(200);
  });
});

import { plansChangedSubject } from '@neonpro/contracts';
import { DEMO_USERS, must, sqlOnce, waitFor } from '@neonpro/testing';
import { type GatewayHarness, startGatewayHarness } from './support/test-gateway.js';

/** Plan-driven limits in one gateway: plans written as the owner, then the CLI's broadcast. */
describe('gateway limits from clinic plans (real Postgres and NATS)', () => {
  let h: GatewayHarness;
  const tokens: Record<string, string> = {};
  const token = (who: keyof typeof DEMO_USERS): string => must(tokens[who], `a token for ${who}`);

  beforeAll(async () => {
    h = await startGatewayHarness('gw-plans', { env: { RATE_LIMIT_AI_LIMIT: '1000' } });
    for (const [k, email] of Object.entries(DEMO_USERS)) {
      tokens[k] = await h.auth.token(email);
    }
  });

  afterAll(async () => {
    await h?.close();
  });

  /** What the plan CLI does: write as the owner, then broadcast. */
  async function setPlan(slug: string, fields: Record<string, number>): Promise<void> {
    const cols = Object.keys(fields);
    const rows = await sqlOnce<{ id: string }>(
      h.auth.db.url,
      `insert into public.clinic_plans (clinic_id, ${cols.join(', ')})
       select id, ${cols.map((_, i) => `$${i + 2}`).join(', ')} from public.clinics where slug = $1
       on conflict (clinic_id) do update set ${cols.map((f) => `${f} = excluded.${f}`).join(', ')}
       returning clinic_id as id`,
      [slug, ...Object.values(fields)],
    );
    h.nc.publish(plansChangedSubject(h.prefix), JSON.stringify({ clinic_id: must(rows[0], 'the plan row').id }));
    await h.nc.flush();
  }

  const chat = (token: string) =>
    fetch(`${h.base}/v1/ai/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ message: 'oi' }),
    });
  const get = (path: string, token: string) =>
    fetch(`${h.base}${path}`, { headers: { authorization: `Bearer ${token}` } });

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
    expect(await (await fetch(`${h.base}/metrics`)).text()).toMatch(
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
    h.nc.publish(plansChangedSubject(h.prefix), '{"clinic_id": 42}');
    h.nc.publish(plansChangedSubject(h.prefix), 'not json');
    await h.nc.flush();
    const bad = await get('/v1/clinic/usage?granularity=hour&from=2026-13-01', token('auroraAdmin'));
    expect(bad.status).toBe(400);
    const problem = (await bad.json()) as { code: string; errors: { field: string }[] };
    expect(problem.code).toBe('invalid_request');
    expect(problem.errors.map((e) => e.field).sort()).toEqual(['from', 'granularity']);
    expect((await get('/v1/clinic/plan', token('auroraAdmin'))).status).toBe(200);
  });
});

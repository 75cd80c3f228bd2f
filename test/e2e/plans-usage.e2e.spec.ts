import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { io } from 'socket.io-client';
import {
  type AuthFixture,
  createAuthFixture,
  DEMO_USERS,
  freePort,
  NATS_URL,
  REPO_ROOT,
  type ServiceProcess,
  spawnService,
  uniquePrefix,
  waitFor,
  must,
  deletePrefixStreams,
} from '@neonpro/testing';

const run = promisify(execFile);
const PLAN_CLI = join(REPO_ROOT, 'dist/services/gateway/src/plan-cli.js');

/**
 * Plans and usage end to end on built processes: two gateway replicas sharing Redis and NATS
 * (what `GATEWAY_REPLICAS=2 npm start` runs), one agent on the real Postgres, and the built plan
 * CLI changing plans while they run.
 */
describe('E2E: per-clinic plans, budgets and usage (two gateway replicas, plan CLI)', () => {
  const prefix = uniquePrefix('e2e-plans');
  let gateways: [ServiceProcess, ServiceProcess];
  let agent: ServiceProcess;
  let fx: AuthFixture;
  let env: Record<string, string>;
  const tokens: Record<string, string> = {};
  const token = (who: keyof typeof DEMO_USERS): string => must(tokens[who], `a token for ${who}`);

  beforeAll(async () => {
    fx = await createAuthFixture();
    env = { ...fx.env, NATS_URL, NATS_SUBJECT_PREFIX: prefix };
    agent = spawnService('ai-agent', await freePort(), { ...env, AGENT_INSTANCE_ID: 'e2e-plans', DB_POOL_MAX: '4' });
    const gatewayEnv = {
      ...env,
      REDIS_URL: 'redis://127.0.0.1:6379',
      RATE_LIMIT_KEY_PREFIX: `${prefix}:rl:`,
      SOCKET_REDIS_PREFIX: `${prefix}:sio:`,
      // The longest cache allowed: a change that shows at once arrived by the NATS broadcast.
      PLAN_CACHE_TTL_MS: '10000',
      USAGE_CACHE_TTL_MS: '1000',
    };
    gateways = [
      spawnService('gateway', await freePort(), gatewayEnv),
      spawnService('gateway', await freePort(), gatewayEnv),
    ];
    // Generous bound: the shared CI machine may be busy (no timing is asserted).
    await Promise.all([agent, ...gateways].map((p) => p.waitReady(120000)));
    for (const [k, email] of Object.entries(DEMO_USERS)) {
      tokens[k] = await fx.token(email);
    }
  }, 180000);

  afterAll(async () => {
    await Promise.all([...(gateways ?? []), agent].filter(Boolean).map((p) => p.stop('SIGKILL')));
    await deletePrefixStreams(prefix);
    await fx?.close();
  });

  async function sql<T>(text: string, values: unknown[] = []): Promise<T[]> {
    const c = new pg.Client({ connectionString: fx.db.url });
    await c.connect();
    try {
      return (await c.query(text, values)).rows as T[];
    } finally {
      await c.end();
    }
  }

  async function planCli(...args: string[]): Promise<Record<string, unknown>> {
    const { stdout } = await run(process.execPath, [PLAN_CLI, ...args], {
      // The owner writes plans; the services' login cannot.
      env: { PATH: process.env.PATH ?? '', ...env, DATABASE_MIGRATION_URL: fx.db.url },
    });
    return JSON.parse(stdout) as Record<string, unknown>;
  }

  const chat = (gw: ServiceProcess, token: string, message = 'quais consultas temos hoje?') =>
    fetch(`${gw.url}/v1/ai/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ message }),
    });
  const get = (gw: ServiceProcess, path: string, token: string) =>
    fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${token}` } });

  it('records every run; an admin reads plan and usage whose totals match the runs exactly', async () => {
    const shown = await planCli('set', '--clinic', 'aurora', '--monthly-ai-tokens', '50000000');
    expect(shown).toMatchObject({ slug: 'aurora', custom: true, monthly_ai_tokens: 50000000 });
    const [a, b] = gateways;

    const asAdmin = await chat(a, token('auroraAdmin'));
    expect(asAdmin.status).toBe(200);
    // Admins see the remaining budget beside the ai tier, as IETF RateLimit list items.
    expect(asAdmin.headers.get('ratelimit')).toMatch(/"ai";r=\d+;t=\d+, "ai_tokens";r=\d+;t=\d+/);
    expect(asAdmin.headers.get('ratelimit-policy')).toContain('"ai_tokens";q=50000000');
    const asLima = await chat(b, token('auroraLima'), 'quais sao os profissionais da clinica?');
    expect(asLima.status).toBe(200);
    expect(asLima.headers.get('ratelimit')).not.toContain('ai_tokens');
    const again = await chat(b, token('auroraAdmin'), 'e amanha?');
    expect(again.status).toBe(200);

    const runs = await sql<{ runs: number; input: number; output: number; tools: number }>(
      `select count(*)::int as runs, sum(input_tokens)::int as input, sum(output_tokens)::int as output,
              sum(tool_calls)::int as tools
         from public.agent_usage u join public.clinics c on c.id = u.clinic_id where c.slug = 'aurora'`,
    );
    expect(must(runs[0], 'runs[0]').runs).toBe(3);
    expect(must(runs[0], 'runs[0]').input).toBeGreaterThan(0);

    const usage = await get(a, '/v1/clinic/usage?granularity=day', token('auroraAdmin'));
    expect(usage.status).toBe(200);
    const body = (await usage.json()) as {
      data: { period: string; runs: number }[];
      totals: {
        runs: number;
        input_tokens: number;
        output_tokens: number;
        tool_calls: number;
        by_provider: Record<string, { runs: number }>;
      };
    };
    expect(body.data).toHaveLength(30);
    expect(body.totals).toMatchObject({
      runs: 3,
      input_tokens: must(runs[0], 'runs[0]').input,
      output_tokens: must(runs[0], 'runs[0]').output,
      tool_calls: must(runs[0], 'runs[0]').tools,
      by_provider: { local: { runs: 3 } },
    });
    expect(body.data.at(-1)!.runs).toBe(3);

    const plan = await get(b, '/v1/clinic/plan', token('auroraAdmin'));
    expect(plan.status).toBe(200);
    expect(await plan.json()).toMatchObject({
      custom: true,
      monthly_ai_tokens: 50000000,
      limits: { ai: { limit: 20, window_s: 60 } },
      budget: {
        used: must(runs[0], 'runs[0]').input + must(runs[0], 'runs[0]').output,
        remaining: 50000000 - must(runs[0], 'runs[0]').input - must(runs[0], 'runs[0]').output,
      },
    });

    // Admins only, and every read is audited.
    expect((await get(a, '/v1/clinic/usage', token('auroraLima'))).status).toBe(403);
    expect((await get(a, '/v1/clinic/plan', token('auroraReception'))).status).toBe(403);
    const audited = await sql<{ action: string }>(
      `select action from public.audit_log where action in ('plan.read', 'usage.read') order by id`,
    );
    expect(audited.map((r) => r.action)).toEqual(['usage.read', 'plan.read']);
  });

  it('lowering a clinic ai limit with the CLI reaches both replicas; another clinic is unaffected', async () => {
    const [a, b] = gateways;
    // Both replicas cache the current plan first, so only the broadcast (or the TTL) can change it.
    for (const gw of gateways) {
      expect((await get(gw, '/v1/ai/sessions', token('auroraReception'))).status).toBe(200);
    }
    await planCli('set', '--clinic', 'aurora', '--ai-per-minute', '3');

    for (const gw of [a, b]) {
      // Polled (no timing assertion): each probe counts one `ai` request of the receptionist.
      await waitFor(
        async () => (await get(gw, '/v1/ai/sessions', token('auroraReception'))).status === 429,
        `the lowered limit on :${gw.port}`,
        30000,
        200,
      );
      const refused = await chat(gw, token('auroraReception'));
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(refused.headers.get('ratelimit-policy')).toContain('"ai";q=3;w=60');
      expect(await refused.json()).toMatchObject({ code: 'rate_limited', tier: 'ai' });
    }
    for (const gw of [a, b]) {
      expect((await chat(gw, token('borealAdmin'))).status).toBe(200);
    }
  });

  it('a clinic over its monthly token budget gets quota_exceeded on REST and Socket.IO; the default plan is untouched', async () => {
    const [a, b] = gateways;
    const shown = await planCli('set', '--clinic', 'boreal', '--monthly-ai-tokens', '1');
    expect(shown).toMatchObject({ slug: 'boreal', monthly_ai_tokens: 1 });
    expect(((await planCli('show', '--clinic', 'default')) as { default_plan: unknown }).default_plan).toMatchObject({
      monthly_ai_tokens: null,
    });

    for (const gw of [a, b]) {
      const refused = (await waitFor(
        async () => {
          const r = await chat(gw, token('borealAdmin'));
          return r.status === 429 ? r : undefined;
        },
        `quota_exceeded on :${gw.port}`,
        30000,
        200,
      ))!;
      const problem = (await refused.json()) as { code: string; resets_at: string };
      expect(problem.code).toBe('quota_exceeded');
      const retryAfter = Number(refused.headers.get('retry-after'));
      // Until the month turns in the clinic's time zone.
      expect(Math.abs(Date.now() + retryAfter * 1000 - Date.parse(problem.resets_at))).toBeLessThan(5000);
      expect(retryAfter).toBeLessThanOrEqual(31 * 86400);
    }

    const socket = io(`${b.url}/chat`, {
      auth: { token: token('borealAdmin') },
      transports: ['websocket'],
      reconnection: false,
    });
    try {
      const ack = (await socket
        .timeout(10000)
        .emitWithAck('chat:send', { message: 'oi', client_message_id: 'q-1' })) as {
        ok: boolean;
        error?: { code: string; retry_after?: number };
      };
      expect(ack).toMatchObject({ ok: false, error: { code: 'quota_exceeded' } });
      expect(ack.error?.retry_after).toBeGreaterThan(0);
    } finally {
      socket.close();
    }

    // Aurora (its own budget) still chats.
    expect((await chat(a, token('auroraAdmin'))).status).toBe(200);
    const metrics = await (await fetch(`${a.url}/metrics`)).text();
    expect(metrics).toMatch(/gateway_quota_rejections_total\{tier="ai_tokens"[^}]*\} [1-9]/);
    const agentMetrics = await (await fetch(`${agent.url}/metrics`)).text();
    expect(agentMetrics).toMatch(/agent_usage_tokens_total\{provider="local",direction="input"[^}]*\} [1-9]/);
  });
});

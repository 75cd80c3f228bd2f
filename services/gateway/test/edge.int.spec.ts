import { randomUUID } from 'node:crypto';
import { connect as netConnect } from 'node:net';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  type AuthEmulator,
  createTestDatabase,
  DEMO_PASSWORD,
  DEMO_USERS,
  freePort,
  NATS_URL,
  startAuthEmulator,
  type TestDatabase,
  uniquePrefix,
  waitFor,
  must,
} from '@neonpro/testing';
import { type GatewayApp, startGateway } from '../src/app.js';
import { CONTENT_SECURITY_POLICY, HSTS } from '../src/edge/edge-headers.js';
import { AuthAttemptLimiter } from '../src/rate-limit/auth-attempt-limiter.service.js';
import { ProblemException } from '../src/common/problem.js';
import { defaultBehaviour, parseSse, ScriptedAgent } from './support/scripted-agent.js';
import { TestPrincipalGuard, TestRoutesController } from './support/test-routes.js';
import { gatewayUrl, testGatewayEnv } from './support/test-gateway.js';

const ORIGIN = 'https://app.example.com';
const extras = { controllers: [TestRoutesController], guardsBeforeRateLimit: [TestPrincipalGuard] };

// The gateway is ready only with Postgres; a seeded database of its own gives the Supabase Auth
// emulator real users, so the failed-login limiter is tested on the real AuthController.
let tdb: TestDatabase | undefined;
let auth: AuthEmulator | undefined;

function gatewayEnv(prefix: string, over: Record<string, string> = {}): Record<string, string> {
  if (!tdb || !auth) {
    throw new Error('test database not created yet');
  }
  return testGatewayEnv(prefix, {
    DATABASE_URL: tdb.serviceUrl,
    SUPABASE_URL: auth.url,
    RATE_LIMIT_KEY_PREFIX: `${uniquePrefix('rl')}:`,
    RATE_LIMIT_DEFAULT_LIMIT: '4',
    RATE_LIMIT_HEALTHCARE_LIMIT: '3',
    RATE_LIMIT_AI_LIMIT: '2',
    RATE_LIMIT_AUTH_LIMIT: '3',
    ...over,
  });
}

let ipSeq = 0;
/** A fresh client address (sent as X-Forwarded-For) so each test owns its counters. */
const freshIp = (): string => `10.${Math.floor(++ipSeq / 250)}.${ipSeq % 250}.${Math.floor(Math.random() * 250)}`;

async function expectProblem(r: Response, status: number, code: string): Promise<Record<string, unknown>> {
  expect(r.status).toBe(status);
  expect(r.headers.get('content-type')).toContain('application/problem+json');
  expect(r.headers.get('cache-control')).toBe('no-store');
  const body = (await r.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ status, code, type: `urn:neonpro:problem:${code}` });
  expect(Object.keys(body)).toEqual(
    expect.arrayContaining(['type', 'title', 'status', 'detail', 'instance', 'code', 'request_id']),
  );
  expect(body.request_id).toBe(r.headers.get('x-request-id'));
  return body;
}

function expectSecurityHeaders(r: Response): void {
  expect(r.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
  expect(r.headers.get('x-content-type-options')).toBe('nosniff');
  expect(r.headers.get('x-frame-options')).toBe('DENY');
  expect(r.headers.get('referrer-policy')).toBe('strict-origin-when-cross-origin');
  expect(r.headers.get('permissions-policy')).toMatch(
    /camera=\(\).*microphone=\(\).*geolocation=\(\).*payment=\(\).*usb=\(\)/,
  );
  expect(r.headers.get('cross-origin-opener-policy')).toBe('same-origin');
  expect(r.headers.get('cross-origin-resource-policy')).toBe('same-origin');
  // helmet 8's other defaults, and nothing that names the server.
  expect(r.headers.get('origin-agent-cluster')).toBe('?1');
  expect(r.headers.get('x-dns-prefetch-control')).toBe('off');
  expect(r.headers.get('x-download-options')).toBe('noopen');
  expect(r.headers.get('x-permitted-cross-domain-policies')).toBe('none');
  expect(r.headers.get('x-xss-protection')).toBe('0');
  expect(r.headers.get('x-powered-by')).toBeNull();
  expect(r.headers.get('cache-control')).toBe('no-store');
  expect(r.headers.get('x-request-id')).toBeTruthy();
}

describe('gateway edge protection (in-process, real NATS and Redis)', () => {
  let nc: NatsConnection;
  const started: GatewayApp[] = [];
  const boot = async (env: Record<string, string>): Promise<{ gw: GatewayApp; base: string }> => {
    const gw = await startGateway(env, extras);
    started.push(gw);
    return { gw, base: gatewayUrl(gw) };
  };

  beforeAll(async () => {
    nc = await connect({ servers: NATS_URL });
    tdb = await createTestDatabase({ seed: true });
    auth = await startAuthEmulator({ port: 0, databaseUrl: tdb.url });
  });

  afterAll(async () => {
    await Promise.all(started.map((g) => g.close()));
    await nc?.drain();
    await auth?.close();
    await tdb?.drop();
  });

  describe('one gateway behind a trusted proxy, with an agent', () => {
    const prefix = uniquePrefix('edge');
    let gw: GatewayApp;
    let base: string;
    let agent: ScriptedAgent;

    beforeAll(async () => {
      ({ gw, base } = await boot(
        gatewayEnv(prefix, {
          TRUST_PROXY: '127.0.0.1',
          CORS_ORIGINS: `${ORIGIN},https://admin.example.com`,
          CONNECTION_TIMEOUT_MS: '300',
          AGENT_TIMEOUT_MS: '1500',
          SLOW_REQUEST_WARN_MS: '100',
          COMPRESSION_THRESHOLD_BYTES: '1024',
        }),
      ));
      agent = await ScriptedAgent.start(nc, prefix);
    });

    afterAll(() => agent.destroy());

    const get = (path: string, ip: string, headers: Record<string, string> = {}) =>
      fetch(`${base}${path}`, { headers: { 'x-forwarded-for': ip, ...headers } });
    const chat = (body: unknown, ip: string, headers: Record<string, string> = {}) =>
      fetch(`${base}/v1/ai/chat`, {
        method: 'POST',
        // A fresh user per call by default: the ai tier also limits per user.
        headers: { 'content-type': 'application/json', 'x-forwarded-for': ip, 'x-test-user': randomUUID(), ...headers },
        body: JSON.stringify(body),
      });

    it.each([
      ['default', '/v1/test/default', 4, 900],
      ['healthcare', '/v1/test/healthcare', 3, 900],
      ['ai', '/v1/test/ai', 2, 60],
    ])('%s tier: the (limit+1)-th request gets 429 with Retry-After', async (tier, path, limit, window) => {
      const ip = freshIp();
      for (let i = 1; i <= limit; i++) {
        const ok = await get(path, ip);
        expect(ok.status).toBe(200);
        expect(ok.headers.get('ratelimit-policy')).toBe(`"${tier}";q=${limit};w=${window}`);
        expect(ok.headers.get('ratelimit')).toMatch(new RegExp(`^"${tier}";r=${limit - i};t=\\d+$`));
        expect(ok.headers.get('x-ratelimit-limit')).toBe(String(limit));
        expect(ok.headers.get('x-ratelimit-remaining')).toBe(String(limit - i));
        expect(Number(ok.headers.get('x-ratelimit-reset'))).toBeGreaterThan(0);
      }
      const limited = await get(path, ip);
      const body = await expectProblem(limited, 429, 'rate_limited');
      expect(body.tier).toBe(tier);
      const retryAfter = Number(limited.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(window);
      expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
      expectSecurityHeaders(limited);
      // Another client is unaffected.
      expect((await get(path, freshIp())).status).toBe(200);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(new RegExp(`gateway_rate_limit_rejections_total\\{[^}]*tier="${tier}"[^}]*\\} [1-9]`));
    });

    it('the chat route is in the ai tier', async () => {
      const ip = freshIp();
      const as = { 'x-test-user': randomUUID() };
      expect((await chat({ message: 'oi' }, ip, as)).status).toBe(200);
      expect((await chat({ message: 'oi' }, ip, as)).status).toBe(200);
      await expectProblem(await chat({ message: 'oi' }, ip, as), 429, 'rate_limited');
    });

    it('tiers have separate budgets', async () => {
      const ip = freshIp();
      for (let i = 0; i < 2; i++) {
        expect((await get('/v1/test/ai', ip)).status).toBe(200);
      }
      expect((await get('/v1/test/ai', ip)).status).toBe(429);
      expect((await get('/v1/test/default', ip)).status).toBe(200);
    });

    it('counts per authenticated user, whatever the IP', async () => {
      const user = randomUUID();
      const other = randomUUID();
      expect((await get('/v1/test/ai', freshIp(), { 'x-test-user': user })).status).toBe(200);
      expect((await get('/v1/test/ai', freshIp(), { 'x-test-user': user })).status).toBe(200);
      expect((await get('/v1/test/ai', freshIp(), { 'x-test-user': user })).status).toBe(429);
      const sameIp = freshIp();
      expect((await get('/v1/test/ai', sameIp, { 'x-test-user': other })).status).toBe(200);
      expect((await get('/v1/test/ai', sameIp)).status).toBe(200);
    });

    it('never limits health, metrics or docs', async () => {
      const ip = freshIp();
      for (let i = 0; i < 8; i++) {
        const live = await get('/health/live', ip);
        expect(live.status).toBe(200);
        expect(live.headers.get('ratelimit')).toBeNull();
        expect((await get('/metrics', ip)).status).toBe(200);
        expect((await get('/health/ready', ip)).status).toBe(200);
      }
    });

    describe('error shape', () => {
      it('400, 401, 404, 409, 500 (without leaking internals)', async () => {
        const bad = await expectProblem(await chat({ nope: 1 }, freshIp()), 400, 'invalid_request');
        expect(bad.errors).toEqual(expect.any(Array));
        await expectProblem(await get('/v1/test/private', freshIp()), 401, 'unauthorized');
        expect((await get('/v1/test/private', freshIp(), { 'x-test-user': 'u1' })).status).toBe(200);
        await expectProblem(await get('/v1/nothing-here', freshIp()), 404, 'not_found');
        await expectProblem(
          await fetch(`${base}/v1/test/conflict`, { method: 'POST', headers: { 'x-forwarded-for': freshIp() } }),
          409,
          'conflict',
        );
        const boom = await get('/v1/test/boom', freshIp());
        const text = JSON.stringify(await expectProblem(boom, 500, 'internal_error'));
        expect(text).not.toContain('hunter2');
        expect(text).not.toContain('maria');
      });
    });

    describe('security headers and CORS', () => {
      it('are on every /v1 response: JSON, SSE, 400, 404, 429, 500', async () => {
        const ip = freshIp();
        const as = { 'x-test-user': randomUUID() };
        const responses = [
          await chat({ message: 'oi' }, ip, as),
          await chat({ message: 'oi' }, freshIp(), { accept: 'text/event-stream' }),
          await chat({}, freshIp()),
          await get('/v1/nothing-here', freshIp()),
          await get('/v1/test/boom', freshIp()),
        ];
        await chat({ message: 'oi' }, ip, as);
        responses.push(await chat({ message: 'oi' }, ip, as));
        expect(responses.map((r) => r.status)).toEqual([200, 200, 400, 404, 500, 429]);
        for (const r of responses) {
          expectSecurityHeaders(r);
          expect(r.headers.get('strict-transport-security')).toBeNull();
          await r.arrayBuffer();
        }
      });

      /** `gateway_http_refused_before_routing_total` for one status (0 before the first). */
      const refusedBeforeRouting = async (status: number): Promise<number> => {
        const text = await (await fetch(`${base}/metrics`)).text();
        const m = new RegExp(
          `^gateway_http_refused_before_routing_total\\{[^}]*status="${status}"[^}]*\\} (\\d+)$`,
          'm',
        ).exec(text);
        return Number(m?.[1] ?? 0);
      };

      // Fastify's router refuses these before any hook runs (frameworkErrors).
      it.each([
        ['a URL that cannot be decoded', '/v1/patients/%E0%A4%A', 400],
        ['a path segment over the router limit', `/v1/patients/${'a'.repeat(101)}`, 414],
      ])('answers %s as a problem with the same headers', async (_what, path, status) => {
        const before = await refusedBeforeRouting(status);
        const r = await get(path, freshIp(), { 'x-forwarded-proto': 'https' });
        expectSecurityHeaders(r);
        expect(await refusedBeforeRouting(status)).toBe(before + 1);
        expect(r.headers.get('strict-transport-security')).toBe(HSTS);
        const body = await expectProblem(r, status, 'invalid_request');
        expect(body.instance).toBe(path);
      });

      // Node's parser refuses these before any request exists (clientError).
      it.each([
        [
          'headers over the size limit',
          `GET /v1/test/default HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20000)}\r\n\r\n`,
          431,
        ],
        ['bytes that are not HTTP', 'HELLO THERE\r\n\r\n', 400],
      ])('answers %s as a problem with the security headers', async (_what, bytes, status) => {
        const before = await refusedBeforeRouting(status);
        const socket = netConnect(gw.port, '127.0.0.1');
        let raw = '';
        let closed = false;
        socket.on('data', (d: Buffer) => (raw += d.toString('latin1')));
        socket.on('close', () => (closed = true));
        socket.on('error', () => undefined);
        socket.write(bytes);
        await waitFor(() => closed, 'the server to answer and close', 10000);
        const [head = '', body = ''] = raw.split('\r\n\r\n');
        const [statusLine, ...lines] = head.split('\r\n');
        const headers = new Map(
          lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
        );
        expect(statusLine).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
        expect(headers.get('content-type')).toContain('application/problem+json');
        expect(headers.get('cache-control')).toBe('no-store');
        expect(headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
        expect(headers.get('x-frame-options')).toBe('DENY');
        expect(headers.get('x-content-type-options')).toBe('nosniff');
        expect(headers.get('permissions-policy')).toMatch(/camera=\(\)/);
        const problem = JSON.parse(body) as Record<string, unknown>;
        expect(problem).toMatchObject({ status, code: 'invalid_request', request_id: headers.get('x-request-id') });
        expect(await refusedBeforeRouting(status)).toBe(before + 1);
      });

      it('sends HSTS when a trusted proxy says the client used HTTPS', async () => {
        const r = await get('/v1/test/default', freshIp(), { 'x-forwarded-proto': 'https' });
        expect(r.headers.get('strict-transport-security')).toBe(HSTS);
      });

      it('answers a preflight from an allowed origin and exposes the useful headers', async () => {
        const pre = await fetch(`${base}/v1/ai/chat`, {
          method: 'OPTIONS',
          headers: {
            origin: ORIGIN,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'content-type,authorization',
          },
        });
        expect(pre.status).toBe(204);
        expect(pre.headers.get('access-control-allow-origin')).toBe(ORIGIN);
        expect(pre.headers.get('access-control-allow-credentials')).toBe('true');
        expect(pre.headers.get('access-control-allow-methods')).toContain('POST');
        expect(pre.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
        const actual = await get('/v1/test/default', freshIp(), { origin: ORIGIN });
        expect(actual.headers.get('access-control-allow-origin')).toBe(ORIGIN);
        const exposed = actual.headers.get('access-control-expose-headers') ?? '';
        for (const h of ['X-Request-Id', 'RateLimit', 'RateLimit-Policy', 'X-RateLimit-Remaining', 'Retry-After']) {
          expect(exposed).toContain(h);
        }
      });

      it('refuses other origins (no CORS headers)', async () => {
        const pre = await fetch(`${base}/v1/ai/chat`, {
          method: 'OPTIONS',
          headers: { origin: 'https://evil.example.net', 'access-control-request-method': 'POST' },
        });
        expect(pre.headers.get('access-control-allow-origin')).toBeNull();
        const actual = await get('/v1/test/default', freshIp(), { origin: 'https://evil.example.net' });
        expect(actual.headers.get('access-control-allow-origin')).toBeNull();
      });
    });

    describe('limits, timeouts, compression and timing', () => {
      it('compresses large JSON, never SSE', async () => {
        const big = await get('/v1/test/big', freshIp(), { 'accept-encoding': 'gzip' });
        expect(big.headers.get('content-encoding')).toBe('gzip');
        expect(((await big.json()) as { items: unknown[] }).items).toHaveLength(500);
        const small = await get('/v1/test/default', freshIp(), { 'accept-encoding': 'gzip' });
        expect(small.headers.get('content-encoding')).toBeNull();
        const sse = await chat({ message: 'oi' }, freshIp(), {
          accept: 'text/event-stream',
          'accept-encoding': 'gzip',
        });
        expect(sse.headers.get('content-encoding')).toBeNull();
        expect(parseSse(await sse.text()).at(-1)?.event).toBe('done');
      });

      it('closes idle connections after CONNECTION_TIMEOUT_MS', async () => {
        const socket = netConnect(gw.port, '127.0.0.1');
        socket.write('GET /v1/test/default HTTP/1.1\r\nHost: x\r\n'); // never finished
        let closed = false;
        socket.on('close', () => (closed = true));
        socket.on('error', () => undefined);
        await waitFor(() => closed, 'the server to drop the idle connection', 10000);
      });

      it('does not cut an SSE stream that stays silent longer than CONNECTION_TIMEOUT_MS', async () => {
        agent.behaviour = (req, _m, reply) => {
          reply({ type: 'token', delta: 'pensando…' });
          // Silent for > 3× the idle timeout, still within AGENT_TIMEOUT_MS.
          setTimeout(() => reply({ type: 'done', message_id: req.message_id, content: 'pronto' }, true), 1000);
          return 'silent';
        };
        try {
          const r = await chat({ message: 'oi' }, freshIp(), { accept: 'text/event-stream' });
          expect(parseSse(await r.text()).map((e) => e.event)).toEqual(['token', 'done']);
        } finally {
          agent.behaviour = defaultBehaviour;
        }
      });

      it('sends Server-Timing with total, auth and upstream', async () => {
        const r = await chat({ message: 'oi' }, freshIp(), { 'x-test-user': randomUUID() });
        const timing = r.headers.get('server-timing') ?? '';
        expect(timing).toMatch(/total;dur=\d/);
        expect(timing).toMatch(/auth;dur=\d/);
        expect(timing).toMatch(/upstream;dur=\d/);
        expect((await get('/v1/test/default', freshIp())).headers.get('server-timing')).toMatch(/^total;dur=/);
      });

      it('counts slow requests', async () => {
        expect((await get('/v1/test/slow', freshIp())).status).toBe(200);
        const metrics = await (await fetch(`${base}/metrics`)).text();
        expect(metrics).toMatch(
          /gateway_slow_requests_total\{[^}]*severity="warn"[^}]*route="\/v1\/test\/slow"[^}]*\} 1/,
        );
      });

      it('queues one run per chat and never republishes it (the queue redelivers); a timeout cancels it', async () => {
        const cmid = `c-${randomUUID()}`;
        const attempts: string[] = [];
        agent.behaviour = (req) => {
          if (req.client_message_id === cmid) {
            attempts.push(req.message_id);
          }
          return 'silent';
        };
        try {
          const r = await chat({ message: 'oi', client_message_id: cmid }, freshIp());
          await expectProblem(r, 504, 'agent_timeout');
          expect(attempts).toHaveLength(1);
          expect(r.headers.get('x-message-id') ?? attempts[0]).toBe(attempts[0]);
          await waitFor(() => agent.cancels.includes(must(attempts[0], 'attempts[0]')), 'cancel to reach the agents');
        } finally {
          agent.behaviour = defaultBehaviour;
        }
      });
    });
  });

  it('ignores X-Forwarded-For and X-Forwarded-Proto from an untrusted peer', async () => {
    const { base } = await boot(gatewayEnv(uniquePrefix('edge-untrusted')));
    for (let i = 0; i < 4; i++) {
      expect((await fetch(`${base}/v1/test/default`, { headers: { 'x-forwarded-for': freshIp() } })).status).toBe(200);
    }
    const r = await fetch(`${base}/v1/test/default`, {
      headers: { 'x-forwarded-for': freshIp(), 'x-forwarded-proto': 'https' },
    });
    expect(r.status).toBe(429);
    expect(r.headers.get('strict-transport-security')).toBeNull();
  });

  describe('circuit breaker on the agent call', () => {
    it('opens after the threshold (fast 503 upstream_unavailable + Retry-After) and closes when agents return', async () => {
      const prefix = uniquePrefix('edge-breaker');
      const { base } = await boot(
        gatewayEnv(prefix, {
          RATE_LIMIT_AI_LIMIT: '1000',
          AGENT_BREAKER_THRESHOLD: '2',
          AGENT_BREAKER_HALF_OPEN_MS: '300',
          AGENT_RETRY_MAX: '0',
        }),
      );
      const chat = () =>
        fetch(`${base}/v1/ai/chat`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-test-user': randomUUID() },
          body: JSON.stringify({ message: 'oi' }),
        });
      const breaker = async () =>
        (
          (await (await fetch(`${base}/health/ready`)).json()) as {
            checks: { breakers: { details: { agent: { state: string; retry_after_s?: number } } } };
          }
        ).checks.breakers.details.agent;
      const metrics = async () => (await fetch(`${base}/metrics`)).text();

      expect((await breaker()).state).toBe('closed');
      await expectProblem(await chat(), 503, 'agent_unavailable');
      await expectProblem(await chat(), 503, 'agent_unavailable');
      expect((await breaker()).state).toBe('open');
      expect(await metrics()).toMatch(/gateway_breaker_state\{[^}]*name="agent"[^}]*\} 1/);

      const fast = await chat();
      const body = await expectProblem(fast, 503, 'upstream_unavailable');
      expect(body.instance).toBe('/v1/ai/chat');
      expect(Number(fast.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      // Refused before the rate limiter counted it: no quota spent on a run that cannot start.
      expect(fast.headers.get('ratelimit')).toBeNull();
      expect(await metrics()).toMatch(
        /gateway_policy_rejections_total\{[^}]*name="agent"[^}]*reason="breaker_open"[^}]*\} [1-9]/,
      );

      const agent = await ScriptedAgent.start(nc, prefix);
      try {
        await waitFor(async () => (await chat()).status === 200, 'a half-open probe to succeed', 15000, 100);
        expect((await breaker()).state).toBe('closed');
        const m = await metrics();
        expect(m).toMatch(/gateway_breaker_transitions_total\{[^}]*from="open"[^}]*to="half_open"[^}]*\} [1-9]/);
        expect(m).toMatch(/gateway_breaker_transitions_total\{[^}]*from="half_open"[^}]*to="closed"[^}]*\} 1/);
        expect(m).toMatch(/gateway_breaker_state\{[^}]*name="agent"[^}]*\} 0/);
        expect((await chat()).status).toBe(200);
      } finally {
        await agent.destroy();
      }
    });
  });

  describe('Redis-shared counters', () => {
    it('two gateways sharing Redis enforce one combined limit', async () => {
      const env = gatewayEnv(uniquePrefix('edge-redis'), { REDIS_URL: 'redis://127.0.0.1:6379' });
      const a = await boot(env);
      const b = await boot(env);
      const statuses: number[] = [];
      for (const base of [a.base, b.base, a.base, b.base, a.base, b.base]) {
        statuses.push((await fetch(`${base}/v1/test/default`)).status);
      }
      expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
      const ready = (await (await fetch(`${a.base}/health/ready`)).json()) as {
        checks: { rate_limit_store: { details: Record<string, unknown> } };
      };
      expect(ready.checks.rate_limit_store.details).toMatchObject({ kind: 'redis', connected: true });
    });

    /** A gateway whose rate-limit store is a Redis URL on a port nobody listens on. */
    const bootWithRedisDown = async (label: string, env: Record<string, string>) =>
      boot(gatewayEnv(uniquePrefix(label), { REDIS_URL: `redis://127.0.0.1:${await freePort()}`, ...env }));

    it('Redis unreachable, fail open (default): requests pass, counted in a metric, still ready', async () => {
      const { base } = await bootWithRedisDown('edge-open', { REDIS_COMMAND_TIMEOUT_MS: '200' });
      for (let i = 0; i < 6; i++) {
        const r = await fetch(`${base}/v1/test/default`);
        expect(r.status).toBe(200);
        expect(r.headers.get('ratelimit')).toBeNull();
      }
      expect(await (await fetch(`${base}/metrics`)).text()).toMatch(
        /gateway_rate_limit_store_errors_total\{[^}]*fail_mode="open"[^}]*\} 6/,
      );
      const ready = await fetch(`${base}/health/ready`);
      expect(ready.status).toBe(200);
      expect(
        ((await ready.json()) as { checks: { rate_limit_store: { details: object } } }).checks.rate_limit_store.details,
      ).toMatchObject({ kind: 'redis', connected: false, fail_mode: 'open' });
    });

    it('Redis unreachable, fail closed: 503 problem (never 500), still ready (Redis is shared)', async () => {
      const { base } = await bootWithRedisDown('edge-closed', { RATE_LIMIT_REDIS_FAIL_MODE: 'closed' });
      const r = await fetch(`${base}/v1/test/default`);
      await expectProblem(r, 503, 'upstream_unavailable');
      expect(r.headers.get('retry-after')).toBe('1');
      expect((await fetch(`${base}/health/live`)).status).toBe(200);
      const ready = await fetch(`${base}/health/ready`);
      expect(ready.status).toBe(200);
      expect(
        ((await ready.json()) as { checks: { rate_limit_store: { ok: boolean } } }).checks.rate_limit_store.ok,
      ).toBe(false);
      expect(await (await fetch(`${base}/metrics`)).text()).toMatch(
        /gateway_rate_limit_store_errors_total\{[^}]*fail_mode="closed"[^}]*\} 1/,
      );
    });
  });

  describe('auth tier (failed logins only, on POST /v1/auth/login)', () => {
    // A gateway of its own: the one above closes connections after 300 ms, shorter than a login.
    let gw: GatewayApp;
    let base: string;
    beforeAll(async () => {
      ({ gw, base } = await boot(gatewayEnv(uniquePrefix('edge-auth'), { TRUST_PROXY: '127.0.0.1' })));
    });

    const login = (email: string, password: string, ip: string) =>
      fetch(`${base}/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
        body: JSON.stringify({ email, password }),
      });

    it('successful logins never count', async () => {
      const ip = freshIp();
      for (let i = 0; i < 6; i++) {
        expect((await login(DEMO_USERS.auroraAdmin, DEMO_PASSWORD, ip)).status).toBe(200);
      }
    });

    it('after the limit of failures even the right password is refused, per IP + e-mail', async () => {
      const ip = freshIp();
      const email = DEMO_USERS.auroraReception;
      for (let i = 0; i < 3; i++) {
        await expectProblem(await login(email, 'wrong', ip), 401, 'invalid_credentials');
      }
      const refused = await login(email, DEMO_PASSWORD, ip);
      await expectProblem(refused, 429, 'rate_limited');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await login(email.toUpperCase(), DEMO_PASSWORD, ip)).status).toBe(429);
      expect((await login(DEMO_USERS.auroraLima, DEMO_PASSWORD, ip)).status).toBe(200);
      expect((await login(email, DEMO_PASSWORD, freshIp())).status).toBe(200);
    });

    it('AuthAttemptLimiter at service level', async () => {
      const limiter = gw.app.get(AuthAttemptLimiter);
      const email = `${randomUUID()}@example.com`;
      await expect(limiter.assertAllowed('192.0.2.1', email)).resolves.toBeUndefined();
      expect(await limiter.recordFailure('192.0.2.1', email)).toBe(2);
      expect(await limiter.recordFailure('192.0.2.1', email)).toBe(1);
      await expect(limiter.assertAllowed('192.0.2.1', email)).resolves.toBeUndefined();
      expect(await limiter.recordFailure('192.0.2.1', email)).toBe(0);
      const err = await limiter.assertAllowed('192.0.2.1', email).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ProblemException);
      expect((err as ProblemException).getStatus()).toBe(429);
      expect((err as ProblemException).problemOptions.retryAfter).toBeGreaterThan(0);
      await expect(limiter.assertAllowed('192.0.2.2', email)).resolves.toBeUndefined();
    });
  });
});

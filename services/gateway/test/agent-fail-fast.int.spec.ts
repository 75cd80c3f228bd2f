import { randomUUID } from 'node:crypto';
import { type AuthFixture, createAuthFixture, DEMO_USERS, uniquePrefix } from '@neonpro/testing';
import { type GatewayApp, startGateway } from '../src/app.js';
import { chatClient, type SendAck } from './realtime/socket-client.js';
import { gatewayUrl, testGatewayEnv } from './support/test-gateway.js';

/**
 * With the agent breaker open, a caller the gateway already knows is refused in the chat route's
 * onRequest hook (AgentFailFast), before its body is read; a caller not yet known is refused by the
 * rate-limit guard once authenticated; Socket.IO's chat:send before anything is counted. The same
 * problem everywhere, counted once. Real gateway, NATS, Postgres and auth emulator; no agent is
 * subscribed, so runs fail and the breaker opens (and stays open for the whole file).
 */
describe('an open agent breaker refuses runs up front', () => {
  let fx: AuthFixture;
  let gw: GatewayApp;
  let base: string;
  let reception: string;

  beforeAll(async () => {
    fx = await createAuthFixture();
    gw = await startGateway(
      testGatewayEnv(uniquePrefix('gw-failfast'), {
        ...fx.env,
        AGENT_BREAKER_THRESHOLD: '2',
        // Stays open for the whole test: no half-open probe lets a call through.
        AGENT_BREAKER_HALF_OPEN_MS: '600000',
        AGENT_RETRY_MAX: '0',
        // Low enough that counting the refused runs would show as rate_limited.
        RATE_LIMIT_AI_LIMIT: '4',
      }),
    );
    base = gatewayUrl(gw);
    reception = `Bearer ${await fx.token(DEMO_USERS.auroraReception)}`;
    // No agent: two failed runs open the breaker (and make the reception's token known).
    for (let i = 0; i < 2; i++) {
      const r = await chat(reception, valid);
      expect(r.status).toBe(503);
      expect(((await r.json()) as { code: string }).code).toBe('agent_unavailable');
    }
  });

  afterAll(async () => {
    await gw?.close();
    await fx?.close();
  });

  const chat = (authorization: string | undefined, body: string): Promise<Response> =>
    fetch(`${base}/v1/ai/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      body,
    });
  const valid = JSON.stringify({ message: 'oi' });
  const malformed = '{"message": ';

  const metric = async (pattern: RegExp): Promise<number> => {
    const text = await (await fetch(`${base}/metrics`)).text();
    return Number(pattern.exec(text)?.[1] ?? 0);
  };
  const rejections = () =>
    metric(/^gateway_policy_rejections_total\{[^}]*name="agent"[^}]*reason="breaker_open"[^}]*\} (\d+)/m);
  const answered503 = () => metric(/^http_requests_total\{[^}]*route="\/v1\/ai\/chat"[^}]*status="503"[^}]*\} (\d+)/m);

  /** The refusal, whichever path answered it: a 503 problem with every edge header and no count against limits. */
  async function expectRefusal(r: Response): Promise<Record<string, unknown>> {
    expect(r.status).toBe(503);
    expect(r.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(r.headers.get('ratelimit')).toBeNull();
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(r.headers.get('x-frame-options')).toBe('DENY');
    expect(r.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(r.headers.get('server-timing')).toMatch(/^total;dur=/);
    const body = (await r.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      type: 'urn:neonpro:problem:upstream_unavailable',
      status: 503,
      code: 'upstream_unavailable',
      instance: '/v1/ai/chat',
      detail: 'The assistant is failing; calls are paused for a moment.',
    });
    expect(body.request_id).toBe(r.headers.get('x-request-id'));
    return body;
  }

  it('answers a known caller before reading the body, an unknown one after authenticating it, and counts each once', async () => {
    const lima = `Bearer ${await fx.token(DEMO_USERS.auroraLima)}`;
    const before = { rejected: await rejections(), answered: await answered503() };

    // Known: refused in onRequest, so a body that is not even JSON gets the refusal, not a 400.
    const known = await expectRefusal(await chat(reception, malformed));
    const knownValid = await expectRefusal(await chat(reception, valid));
    expect(knownValid.request_id).not.toBe(known.request_id);

    // Not yet known: its body is parsed first (Fastify, before any guard), then the guard refuses.
    expect((await chat(lima, malformed)).status).toBe(400);
    const unknown = await expectRefusal(await chat(lima, valid));
    const { request_id: _a, ...sameA } = known;
    const { request_id: _b, ...sameB } = unknown;
    expect(sameB).toEqual(sameA);
    // Known from now on: refused before its body is read too.
    await expectRefusal(await chat(lima, malformed));

    // Tokens that prove nothing never learn about the outage: 401 first, as with the breaker closed.
    for (const authorization of [undefined, 'Bearer not-a-jwt', `${reception.slice(0, -2)}xx`]) {
      const r = await chat(authorization, valid);
      expect(r.status).toBe(401);
      expect(((await r.json()) as { code: string }).code).toBe('unauthorized');
    }

    // Four refusals, each counted once in the policy's series and in the request metrics.
    expect(await rejections()).toBe(before.rejected + 4);
    expect(await answered503()).toBe(before.answered + 4);
  });

  it('refuses chat:send over Socket.IO before counting it or reading its session', async () => {
    const admin = await fx.token(DEMO_USERS.auroraAdmin);
    const before = await rejections();
    const c = chatClient(base, admin);
    try {
      const acks: SendAck[] = [];
      // More sends than the ai limit allows: counted, the fifth would be rate_limited.
      for (let i = 0; i < 6; i++) {
        acks.push(await c.ack<SendAck>('chat:send', { message: 'oi', client_message_id: `ff-${randomUUID()}` }));
      }
      // A session that is not the caller's would be not_found after a database read.
      acks.push(
        await c.ack<SendAck>('chat:send', {
          message: 'oi',
          session_id: randomUUID(),
          client_message_id: `ff-${randomUUID()}`,
        }),
      );
      for (const ack of acks) {
        expect(ack).toEqual({
          ok: false,
          error: {
            code: 'upstream_unavailable',
            message: 'The assistant is failing; calls are paused for a moment.',
            retry_after: expect.any(Number) as number,
          },
        });
      }
    } finally {
      c.close();
    }
    expect(await rejections()).toBe(before + 7);
  });
});

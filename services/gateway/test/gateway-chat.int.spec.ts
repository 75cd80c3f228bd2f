import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { jest } from '@jest/globals';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import {
  agentBus,
  type AgentEvent,
  DEV_RUN_GRANT_PUBLIC_JWK,
  importGrantKey,
  verifyRunGrant,
} from '@neonpro/contracts';
import {
  type AuthFixture,
  createAuthFixture,
  DEMO_USERS,
  NATS_URL,
  uniquePrefix,
  waitFor,
  must,
} from '@neonpro/testing';
import { type GatewayApp, startGateway } from '../src/app.js';
import { NatsConnectionService } from '../src/nats/nats-connection.service.js';
import { parseSse, ScriptedAgent } from './support/scripted-agent.js';
import { gatewayUrl, testGatewayEnv } from './support/test-gateway.js';

describe('gateway chat API against a scripted agent on real NATS', () => {
  const prefix = uniquePrefix('gw-it');
  let gw: GatewayApp;
  let base: string;
  let nc: NatsConnection;
  let agent: ScriptedAgent | undefined;
  let fx: AuthFixture;
  let token: string;

  beforeAll(async () => {
    fx = await createAuthFixture();
    token = await fx.token(DEMO_USERS.auroraReception);
    gw = await startGateway(
      testGatewayEnv(prefix, {
        ...fx.env,
        AGENT_TIMEOUT_MS: '400',
        AGENT_RETRY_AFTER_S: '7',
        BODY_LIMIT_BYTES: '8192',
        // Reattach requests count against the ai tier too.
        RATE_LIMIT_AI_LIMIT: '100',
      }),
    );
    base = gatewayUrl(gw);
    nc = await connect({ servers: NATS_URL });
  });

  afterAll(async () => {
    await gw?.close();
    await agent?.destroy();
    await nc?.drain();
    await fx?.close();
  });

  const post = (body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${base}/v1/ai/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('refuses to boot with a grant key it cannot sign with, naming the variable', async () => {
    for (const key of ['not json', DEV_RUN_GRANT_PUBLIC_JWK, '{"kty":"OKP","crv":"Ed25519","d":"x","x":"y"}']) {
      await expect(
        startGateway(testGatewayEnv(uniquePrefix('gw-key'), { ...fx.env, AGENT_GRANT_PRIVATE_KEY: key })),
      ).rejects.toThrow(/\n {2}- AGENT_GRANT_PRIVATE_KEY: /);
    }
  });

  it('refuses to boot on a port in use', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      await expect(
        startGateway(testGatewayEnv(uniquePrefix('gw-port'), { ...fx.env, PORT: String(port) })),
      ).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('answers 401 without a valid token, before anything reaches the agents', async () => {
    for (const authorization of [undefined, 'Bearer not-a-jwt']) {
      const r = await fetch(`${base}/v1/ai/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        body: JSON.stringify({ message: 'oi' }),
      });
      expect(r.status).toBe(401);
      expect(((await r.json()) as { code: string }).code).toBe('unauthorized');
    }
  });

  describe('with no agent subscribed', () => {
    it('answers 503 problem+json with Retry-After straight from NATS no-responders', async () => {
      const r = await post({ message: 'oi' });
      expect(r.status).toBe(503);
      expect(r.headers.get('content-type')).toContain('application/problem+json');
      expect(r.headers.get('retry-after')).toBe('7');
      const body = (await r.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ status: 503, code: 'agent_unavailable', instance: '/v1/ai/chat' });
      expect(body.request_id).toBe(r.headers.get('x-request-id'));
      // The outcome proves the fast path: a timeout would have been a 504 agent_timeout.
    });
  });

  describe('with an agent', () => {
    beforeAll(async () => {
      agent = await ScriptedAgent.start(nc, prefix);
      // The subscriptions must reach the server before the gateway's first request.
      await nc.flush();
    });

    it('returns the JSON answer and carries request id and traceparent to the agent', async () => {
      const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
      const r = await post({ message: 'Olá' }, { 'x-request-id': 'my-req-42', traceparent });
      expect(r.status).toBe(200);
      expect(r.headers.get('x-request-id')).toBe('my-req-42');
      const body = (await r.json()) as Record<string, string>;
      expect(body.content).toBe('Olá mundo');
      expect(body.session_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(body.message_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(r.headers.get('x-message-id')).toBe(body.message_id);
      const seen = agent!.seen.at(-1)!;
      // The agent keys its logs and audit rows on the gateway's own id; the client's travels beside it.
      expect(seen.headers?.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      expect(seen.headers?.get('x-client-request-id')).toBe('my-req-42');
      // The caller travels as a grant signed for exactly this run; no claims header, no clinic or role.
      expect(seen.headers?.get('x-neonpro-claims')).toBeFalsy();
      const grant = verifyRunGrant(importGrantKey(DEV_RUN_GRANT_PUBLIC_JWK, 'verify'), seen.grant, {
        messageId: seen.request.message_id,
        sessionId: seen.request.session_id,
        message: seen.request.message,
      });
      expect(grant.userId).toMatch(/^[0-9a-f-]{36}$/);
      expect(seen.request.message_id).toBe(body.message_id);
      // Same trace, a new span for the gateway → agent hop.
      const sent = seen.headers?.get('traceparent') ?? '';
      expect(sent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
      expect(sent).not.toBe(traceparent);
    });

    it('keeps the session id the client sends', async () => {
      const session_id = randomUUID();
      const r = await post({ message: 'oi', session_id, client_message_id: 'c-1' });
      expect(((await r.json()) as { session_id: string }).session_id).toBe(session_id);
      expect(agent!.seen.at(-1)!.request.client_message_id).toBe('c-1');
    });

    it('reattaches to a finished turn with Last-Event-ID or ?after=N; only its owner (others get 404)', async () => {
      const r = await post({ message: 'oi' }, { accept: 'text/event-stream' });
      const id = r.headers.get('x-message-id')!;
      expect(parseSse(await r.text()).map((e) => e.id)).toEqual(['1', '2', '3']);
      const resume = (headers: Record<string, string>, query = '', who = token): Promise<Response> =>
        fetch(`${base}/v1/ai/chat/${id}/events${query}`, { headers: { authorization: `Bearer ${who}`, ...headers } });
      const afterOne = parseSse(await (await resume({ 'last-event-id': '1' })).text());
      expect(afterOne.map((e) => [e.id, e.event])).toEqual([
        ['2', 'token'],
        ['3', 'done'],
      ]);
      // Tokens before the reattach plus tokens after it equal the final content.
      expect(`Olá ${(must(afterOne[0], 'afterOne[0]').data as { delta: string }).delta}`).toBe(
        (must(afterOne[1], 'afterOne[1]').data as { content: string }).content,
      );
      expect(parseSse(await (await resume({}, '?after=2')).text()).map((e) => e.event)).toEqual(['done']);
      const other = await fx.token(DEMO_USERS.auroraAdmin);
      expect((await resume({}, '', other)).status).toBe(404);
      expect(
        (await fetch(`${base}/v1/ai/chat/${randomUUID()}/events`, { headers: { authorization: `Bearer ${token}` } }))
          .status,
      ).toBe(404);
      expect((await resume({ 'last-event-id': 'abc' })).status).toBe(400);
    });

    it('streams Server-Sent Events with ids: token…, done', async () => {
      const r = await post({ message: 'oi' }, { accept: 'text/event-stream' });
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toContain('text/event-stream');
      expect(r.headers.get('x-request-id')).toBeTruthy();
      const events = parseSse(await r.text());
      expect(events.map((e) => e.event)).toEqual(['token', 'token', 'done']);
      expect(events.map((e) => e.id)).toEqual(['1', '2', '3']);
      expect(must(events[0], 'events[0]').data).toEqual({ delta: 'Olá ' });
      expect(must(events[2], 'events[2]').data).toMatchObject({ content: 'Olá mundo', session_id: expect.any(String) });
    });

    it("unsubscribes from a turn's events once, whether the answer is JSON or SSE", async () => {
      // Every unsubscribe() call on a nats-core subscription writes an UNSUB, closed or not.
      const connection = gw.app.get(NatsConnectionService).connection;
      const subscribe = connection.subscribe.bind(connection);
      const runEvents = agentBus(prefix).events(''); // any run's event subject starts so
      const turns: { sub: Subscription; unsubscribes: number }[] = [];
      const spy = jest.spyOn(connection, 'subscribe').mockImplementation((subject, opts) => {
        const sub = subscribe(subject, opts);
        if (subject.startsWith(runEvents)) {
          const turn = { sub, unsubscribes: 0 };
          turns.push(turn);
          const unsubscribe = sub.unsubscribe.bind(sub);
          sub.unsubscribe = (max?: number) => {
            turn.unsubscribes += 1;
            unsubscribe(max);
          };
        }
        return sub;
      });
      try {
        for (const accept of ['application/json', 'text/event-stream']) {
          const r = await post({ message: 'oi' }, { accept });
          expect(r.status).toBe(200);
          await r.text();
        }
        await waitFor(
          () => turns.length === 2 && turns.every((t) => t.sub.isClosed() && t.unsubscribes > 0),
          'both turns unsubscribed',
        );
        // A round trip to the server: whatever the relay's unwinding still had queued has run by now.
        await connection.flush();
        expect(turns.map((t) => t.unsubscribes)).toEqual([1, 1]);
      } finally {
        spy.mockRestore();
      }
    });

    it('relays an agent error event inside an SSE stream', async () => {
      agent!.behaviour = () => [
        { type: 'token', delta: 'a' },
        { type: 'error', code: 'agent_failed', message: 'boom' },
      ];
      const events = parseSse(await (await post({ message: 'oi' }, { accept: 'text/event-stream' })).text());
      expect(events.at(-1)).toMatchObject({ event: 'error', data: { code: 'agent_failed', message: 'boom' } });
    });

    it('relays a proposal (SSE proposal, JSON proposal) and passes confirm {proposal_id} to the agent', async () => {
      const proposal = {
        type: 'proposal' as const,
        proposal_id: 'p-0123456789abcdef',
        action: 'cancel' as const,
        summary: 'Cancelar a consulta de Ana com Dra. Lima em quarta-feira, 02/12, às 09:00.',
        expires_at: '2026-12-02T12:15:00.000Z',
      };
      let confirmSeen: unknown;
      agent!.behaviour = (req) => {
        confirmSeen = req.confirm;
        return [proposal, { type: 'done', message_id: req.message_id, content: 'Confirma?' }];
      };
      const events = parseSse(await (await post({ message: 'cancele' }, { accept: 'text/event-stream' })).text());
      const { type: _type, ...shown } = proposal;
      expect(events.find((e) => e.event === 'proposal')?.data).toEqual(shown);
      const json = (await (await post({ message: 'cancele' })).json()) as Record<string, unknown>;
      expect(json.proposal).toEqual(shown);
      expect(confirmSeen).toBeUndefined();
      const confirmed = await post({ message: 'Confirmar', confirm: { proposal_id: proposal.proposal_id } });
      expect(confirmed.status).toBe(200);
      expect(confirmSeen).toEqual({ proposal_id: proposal.proposal_id });
      // A malformed confirmation is the client's fault: 400, and the agent never sees it.
      confirmSeen = undefined;
      const bad = await post({ message: 'sim', confirm: { proposal_id: 'DROP TABLE' } });
      expect(bad.status).toBe(400);
      expect(confirmSeen).toBeUndefined();
    });

    it('maps agent_overloaded to 503 with Retry-After', async () => {
      agent!.behaviour = () => [{ type: 'error', code: 'agent_overloaded', message: 'busy' }];
      const r = await post({ message: 'oi' });
      expect(r.status).toBe(503);
      expect(r.headers.get('retry-after')).toBe('7');
      expect(((await r.json()) as { code: string }).code).toBe('agent_overloaded');
    });

    it('answers 504 when the agent stays silent past AGENT_TIMEOUT_MS, and cancels the run', async () => {
      agent!.behaviour = () => 'silent';
      const r = await post({ message: 'oi' });
      expect(r.status).toBe(504);
      expect(((await r.json()) as { code: string }).code).toBe('agent_timeout');
      const id = agent!.seen.at(-1)!.request.message_id;
      await waitFor(() => agent!.cancels.includes(id), 'cancel to reach the agent');
    });

    it('ends an SSE stream with an error event when the agent stalls mid-answer', async () => {
      agent!.behaviour = () => 'stall-after-first';
      const events = parseSse(await (await post({ message: 'oi' }, { accept: 'text/event-stream' })).text());
      expect(events.map((e) => e.event)).toEqual(['token', 'error']);
      expect(must(events[1], 'events[1]').data).toMatchObject({ code: 'agent_timeout' });
    });

    it('rejects an invalid agent event as a protocol failure (502), never a 500', async () => {
      agent!.behaviour = () => [{ type: 'token', delta: 5 } as unknown as AgentEvent];
      const r = await post({ message: 'oi' });
      expect(r.status).toBe(502);
      expect(((await r.json()) as { code: string }).code).toBe('agent_failed');
    });
  });

  describe('input validation', () => {
    it.each([
      [{}, ['message']],
      [{ message: '' }, ['message']],
      [{ message: '   ' }, ['message']],
      [{ message: 'x'.repeat(4001) }, ['message']],
      [{ message: 'ok', session_id: 'nope' }, ['session_id']],
      [{ message: 'ok', client_message_id: 'has space' }, ['client_message_id']],
      [{ message: 12 }, ['message']],
      [{ message: 'ok', extra: true }, ['(body)']],
    ])('400 problem for %j naming %j', async (body, fields) => {
      const r = await post(body);
      expect(r.status).toBe(400);
      expect(r.headers.get('content-type')).toContain('application/problem+json');
      const p = (await r.json()) as { code: string; errors: { field: string }[]; type: string; title: string };
      expect(p.code).toBe('invalid_request');
      expect(p.type).toBe('urn:neonpro:problem:invalid_request');
      expect(p.errors.map((e) => e.field)).toEqual(fields);
    });

    it('400 for malformed JSON, 413 for a huge body, 415 for a non-JSON body, 404 for unknown routes', async () => {
      expect((await post('{"message": ')).status).toBe(400);
      const big = await post({ message: 'x'.repeat(9000) });
      expect(big.status).toBe(413);
      expect(((await big.json()) as { code: string }).code).toBe('payload_too_large');
      const text = await fetch(`${base}/v1/ai/chat`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: 'hi',
      });
      expect(text.status).toBe(415);
      const form = await fetch(`${base}/v1/ai/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'message=hi',
      });
      expect(form.status).toBe(415);
      const nf = await fetch(`${base}/v1/nothing-here`);
      expect(nf.status).toBe(404);
      expect(((await nf.json()) as { code: string }).code).toBe('not_found');
    });
  });

  it('serves health and Prometheus metrics with RED series by route template', async () => {
    expect((await fetch(`${base}/health/live`)).status).toBe(200);
    const ready = await fetch(`${base}/health/ready`);
    expect(ready.status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/http_requests_total\{[^}]*route="\/v1\/ai\/chat"/);
    expect(metrics).toContain('gateway_nats_request_duration_seconds');
  });
});

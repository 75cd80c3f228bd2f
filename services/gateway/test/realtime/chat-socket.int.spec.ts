import type { AgentEvent } from '@neonpro/contracts';
import { type AuthFixture, createAuthFixture, DEMO_USERS, must, uniquePrefix, waitFor } from '@neonpro/testing';
import { type GatewayApp, startGateway } from '../../src/app.js';
import { buildDemoPage } from '../../web/build.mjs';
import type { ScriptedAgent } from '../support/scripted-agent.js';
import { type GatewayHarness, gatewayUrl, startGatewayHarness, testGatewayEnv } from '../support/test-gateway.js';
import { type ChatClient, chatClient, connected, nextEvent, refused, type SendAck } from './socket-client.js';

const withTool: ScriptedAgent['behaviour'] = (req) => [
  { type: 'token', delta: 'Olá ' },
  { type: 'tool', name: 'list_appointments', status: 'started' },
  { type: 'tool', name: 'list_appointments', status: 'succeeded' },
  { type: 'token', delta: 'mundo' },
  { type: 'done', message_id: req.message_id, content: 'Olá mundo' },
];

/** Holds each run open after its first token; the test releases or cancels it. */
function gated(agent: ScriptedAgent): {
  release(id: string): void;
  waiting: Map<string, (e: AgentEvent, last?: boolean) => void>;
} {
  const waiting = new Map<string, (e: AgentEvent, last?: boolean) => void>();
  agent.behaviour = (req, _msg, reply) => {
    reply({ type: 'token', delta: 'um ' });
    waiting.set(req.message_id, reply);
    return [];
  };
  return {
    waiting,
    release(id) {
      const reply = waiting.get(id)!;
      reply({ type: 'token', delta: 'dois' });
      reply({ type: 'done', message_id: id, content: 'um dois' }, true);
    },
  };
}

describe('realtime chat over Socket.IO (/chat), real gateway, NATS and Redis', () => {
  let h: GatewayHarness;
  const clients: ChatClient[] = [];
  const client = (token: string | undefined): ChatClient => {
    const c = chatClient(h.base, token);
    clients.push(c);
    return c;
  };
  const as = async (email: string): Promise<ChatClient> => connected(client(await h.auth.token(email)));

  beforeAll(async () => {
    // 5 AI calls per minute per user, REST and socket together.
    h = await startGatewayHarness('sock', { redis: true, env: { AGENT_TIMEOUT_MS: '5000', RATE_LIMIT_AI_LIMIT: '5' } });
  });

  afterEach(() => {
    h.agent.behaviour = withTool;
    for (const c of clients.splice(0)) {
      c.close();
    }
  });

  afterAll(async () => {
    await h?.close();
  });

  describe('handshake authentication', () => {
    it('refuses a missing token with connect_error {code: unauthorized}', async () => {
      const err = await refused(client(undefined));
      expect(err.data).toEqual({ code: 'unauthorized' });
    });

    it('refuses an invalid token the same way', async () => {
      const good = await h.auth.token(DEMO_USERS.auroraAdmin);
      const err = await refused(client(`${good.slice(0, -4)}AAAA`));
      expect(err.data).toEqual({ code: 'unauthorized' });
      expect((await refused(client('not-a-jwt'))).data).toEqual({ code: 'unauthorized' });
    });
  });

  it('session:join with message_id and after replays the rest of a run from its log, to its owner only', async () => {
    h.agent.behaviour = withTool;
    const c = await as(DEMO_USERS.auroraAdmin);
    const ack = await c.send({ message: 'Agenda?', client_message_id: 'web-replay' });
    await c.untilEnd(ack.message_id);
    // Another device of the same user comes back (any replica), having seen events up to seq 2.
    const back = await as(DEMO_USERS.auroraAdmin);
    const joined = await back.ack('session:join', { session_id: ack.session_id, message_id: ack.message_id, after: 2 });
    expect(joined).toMatchObject({ ok: true });
    const rest = await back.untilEnd(ack.message_id);
    expect(rest.map((r) => [r.event, r.data.seq])).toEqual([
      ['chat:tool', 3],
      ['chat:token', 4],
      ['chat:done', 5],
    ]);
    const intruder = await as(DEMO_USERS.borealAdmin);
    expect(
      await intruder.ack('session:join', { session_id: ack.session_id, message_id: ack.message_id, after: 0 }),
    ).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });

  it('chat:send acks, then streams token, tool, token, done to the session room, as the caller', async () => {
    h.agent.behaviour = withTool;
    const c = await as(DEMO_USERS.auroraAdmin);
    const ack = await c.ack<SendAck>('chat:send', { message: 'Agenda de amanhã?', client_message_id: 'web-1' });
    expect(ack).toEqual({ ok: true, session_id: expect.any(String), message_id: expect.any(String) });
    if (!ack.ok) {
      return;
    }
    const events = await c.untilEnd(ack.message_id);
    const base = { session_id: ack.session_id, message_id: ack.message_id };
    expect(events).toEqual([
      { event: 'chat:token', data: { ...base, delta: 'Olá ', seq: 1 } },
      { event: 'chat:tool', data: { ...base, name: 'list_appointments', status: 'started', seq: 2 } },
      { event: 'chat:tool', data: { ...base, name: 'list_appointments', status: 'succeeded', seq: 3 } },
      { event: 'chat:token', data: { ...base, delta: 'mundo', seq: 4 } },
      { event: 'chat:done', data: { ...base, content: 'Olá mundo', seq: 5 } },
    ]);
    // The agent ran the turn as this user, in the session the ack named.
    const seen = h.agent.seen.at(-1)!;
    expect(seen.request).toMatchObject({
      session_id: ack.session_id,
      message_id: ack.message_id,
      client_message_id: 'web-1',
    });
    // As a grant signed for this run: the agent reads clinic and role from the database.
    expect(seen.grant).toBeTruthy();

    // The same session continues with its id.
    const again = await c.ack<SendAck>('chat:send', {
      message: 'e depois?',
      session_id: ack.session_id,
      client_message_id: 'web-2',
    });
    expect(again).toMatchObject({ ok: true, session_id: ack.session_id });
  });

  it('answers invalid payloads with invalid_payload (ack, or chat:error without ack) and stays connected', async () => {
    const c = await as(DEMO_USERS.auroraAdmin);
    const bad = await c.ack<SendAck>('chat:send', { message: '   ', client_message_id: 'x y' });
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid_payload' } });
    if (!bad.ok) {
      const fields = (bad.error.errors as { field: string }[]).map((e) => e.field).sort();
      expect(fields).toEqual(['client_message_id', 'message']);
    }
    expect(await c.ack('chat:send', 'just text')).toMatchObject({ ok: false, error: { code: 'invalid_payload' } });
    expect(await c.ack('chat:send', { message: 'oi', client_message_id: 'a', extra: 1 })).toMatchObject({
      ok: false,
      error: { code: 'invalid_payload' },
    });
    expect(await c.ack('session:join', { session_id: 'nope' })).toMatchObject({
      ok: false,
      error: { code: 'invalid_payload' },
    });
    expect(await c.ack('chat:cancel', {})).toMatchObject({ ok: false, error: { code: 'invalid_payload' } });

    const error = nextEvent<Record<string, unknown>>(c.socket, 'chat:error');
    c.socket.emit('chat:send', { message: '' });
    expect(await error).toMatchObject({ code: 'invalid_payload', event: 'chat:send' });
    expect(c.socket.connected).toBe(true);
    expect(await c.ack('chat:send', { message: 'oi', client_message_id: 'ok-1' })).toMatchObject({ ok: true });
  });

  it('shares the ai rate limit with REST: 5 per minute per user, counted together', async () => {
    const token = await h.auth.token(DEMO_USERS.auroraReception);
    const rest = (): Promise<Response> =>
      fetch(`${h.base}/v1/ai/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ message: 'oi' }),
      });
    expect((await rest()).status).toBe(200);
    expect((await rest()).status).toBe(200);
    const c = await connected(client(token));
    for (let i = 0; i < 3; i++) {
      expect(await c.ack('chat:send', { message: 'oi', client_message_id: `rl-${i}` })).toMatchObject({ ok: true });
    }
    const over = await c.ack<SendAck>('chat:send', { message: 'oi', client_message_id: 'rl-over' });
    expect(over).toMatchObject({ ok: false, error: { code: 'rate_limited', message: expect.any(String) } });
    if (!over.ok) {
      expect(over.error.retry_after).toBeGreaterThan(0);
      expect(over.error.retry_after).toBeLessThanOrEqual(60);
    }
    const refusedRest = await rest();
    expect(refusedRest.status).toBe(429);
    // Another user still has a full budget.
    const other = await as(DEMO_USERS.auroraLima);
    expect(await other.ack('chat:send', { message: 'oi', client_message_id: 'rl-other' })).toMatchObject({ ok: true });
  });

  it('chat:cancel stops only the caller’s own running message', async () => {
    const gate = gated(h.agent);
    const owner = await as(DEMO_USERS.auroraLima);
    const ack = await owner.send({ message: 'demora', client_message_id: 'c-1' });
    await waitFor(() => owner.received.some((r) => r.event === 'chat:token'), 'first token');

    const intruder = await as(DEMO_USERS.borealAdmin);
    expect(await intruder.ack('chat:cancel', { message_id: ack.message_id })).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    });
    expect(h.agent.cancels).not.toContain(ack.message_id);

    expect(await owner.ack('chat:cancel', { message_id: ack.message_id })).toEqual({
      ok: true,
      message_id: ack.message_id,
    });
    const events = await owner.untilEnd(ack.message_id);
    expect(events.at(-1)).toEqual({
      event: 'chat:error',
      data: {
        session_id: ack.session_id,
        message_id: ack.message_id,
        code: 'cancelled',
        message: expect.any(String),
        seq: expect.any(Number),
      },
    });
    await waitFor(() => h.agent.cancels.includes(ack.message_id), 'h.agent.cancel published');
    // Finished: nothing left to cancel.
    expect(await owner.ack('chat:cancel', { message_id: ack.message_id })).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    });
    gate.waiting.clear();
  });

  it('two sockets of one user in one session both see the stream, which survives the sender disconnecting', async () => {
    const gate = gated(h.agent);
    const token = await h.auth.token(DEMO_USERS.auroraLima);
    const phone = await connected(client(token));
    const laptop = await connected(client(token));
    const first = await phone.send({ message: 'oi', client_message_id: 'm-1' });
    gate.release(first.message_id);
    await phone.untilEnd(first.message_id);

    // Only the owner may join; the session has no row yet (in flight), so ownership is the registry's.
    const other = await as(DEMO_USERS.auroraAdmin);
    expect(await other.ack('session:join', { session_id: first.session_id })).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    });
    expect(await laptop.ack('session:join', { session_id: first.session_id })).toEqual({
      ok: true,
      session_id: first.session_id,
    });

    const second = await phone.send({
      message: 'e amanhã?',
      session_id: first.session_id,
      client_message_id: 'm-2',
    });
    await waitFor(() => laptop.received.some((r) => r.data.message_id === second.message_id), 'laptop sees token');
    // The sender goes away mid-stream: the run continues and the other device gets the answer.
    phone.close();
    gate.release(second.message_id);
    const seen = await laptop.untilEnd(second.message_id);
    expect(seen.map((r) => r.event)).toEqual(['chat:token', 'chat:token', 'chat:done']);
    expect(seen.at(-1)!.data).toMatchObject({ content: 'um dois', session_id: first.session_id });
    expect(other.received.filter((r) => r.data.session_id === first.session_id)).toEqual([]);

    // After session:leave the laptop no longer receives this session's events.
    expect(await laptop.ack('session:leave', { session_id: first.session_id })).toMatchObject({ ok: true });
    const p2 = await connected(client(token));
    const third = await p2.send({
      message: 'mais',
      session_id: first.session_id,
      client_message_id: 'm-3',
    });
    gate.release(third.message_id);
    await p2.untilEnd(third.message_id);
    expect(laptop.received.filter((r) => r.data.message_id === third.message_id)).toEqual([]);
  });

  it('refuses to join a session id that is not the caller’s', async () => {
    const c = await as(DEMO_USERS.borealAdmin);
    expect(await c.ack('session:join', { session_id: '00000000-0000-4000-8000-000000000001' })).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    });
    expect(
      await c.ack('chat:send', {
        message: 'oi',
        session_id: '00000000-0000-4000-8000-000000000001',
        client_message_id: 'x',
      }),
    ).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });

  it('exports socket metrics', async () => {
    const c = await as(DEMO_USERS.borealAdmin);
    const ack = await c.send({ message: 'oi', client_message_id: 'metrics-1' });
    await c.untilEnd(ack.message_id);
    const text = await (await fetch(`${h.base}/metrics`)).text();
    expect(text).toMatch(/^socket_connections\{[^}]*\} [1-9]/m);
    expect(text).toMatch(/^socket_events_total\{event="chat:send"[^}]*\} [1-9]/m);
    expect(text).toMatch(/^socket_events_total\{event="chat:token"[^}]*\} [1-9]/m);
    expect(text).toMatch(/^socket_event_duration_seconds_count\{[^}]*event="chat:send"[^}]*\} [1-9]/m);
  });

  it('forgets a socket when it disconnects (one shared listener, not Nest’s per-socket hook)', async () => {
    const gauge = async (): Promise<number> => {
      const text = await (await fetch(`${h.base}/metrics`)).text();
      return Number(/^socket_connections\{[^}]*\} (\d+)/m.exec(text)?.[1] ?? 0);
    };
    // Earlier tests' sockets are closed in afterEach; their disconnects may still be in flight.
    await waitFor(async () => (await gauge()) === 0, 'no socket left from earlier tests');
    const c = await as(DEMO_USERS.borealAdmin);
    expect(await gauge()).toBe(1);
    c.close();
    await waitFor(async () => (await gauge()) === 0, 'socket_connections back down after the disconnect');
  });

  it('serves the demo page and the Socket.IO client under the CSP', async () => {
    await buildDemoPage();
    const page = await fetch(`${h.base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await page.text()).toContain('<script src="/app.js" defer></script>');
    // The page's bundle (web/app.js + @neonpro/client) talks to /chat itself.
    const js = await fetch(`${h.base}/app.js`);
    expect(js.status).toBe(200);
    expect(await js.text()).toContain('chat:send');
    const lib = await fetch(`${h.base}/socket.io/socket.io.min.js`);
    expect(lib.status).toBe(200);
    expect(lib.headers.get('content-type')).toContain('javascript');
    // Bodies are read so no response is left open when the gateway closes.
    expect((await lib.text()).length).toBeGreaterThan(1000);
  });
});

describe('socket token lifetime and connection limits', () => {
  const prefix = uniquePrefix('sock-life');
  let auth: AuthFixture;
  let gw: GatewayApp;
  let base: string;
  const clients: ChatClient[] = [];

  beforeAll(async () => {
    // Tokens live 2 s; one socket per process; 3 handshakes per IP per minute; no Redis (in-memory).
    auth = await createAuthFixture({ expiresIn: 2 });
    gw = await startGateway(
      testGatewayEnv(prefix, { ...auth.env, SOCKET_MAX_CONNECTIONS: '1', SOCKET_CONNECT_RATE_LIMIT: '3' }),
    );
    base = gatewayUrl(gw);
  });

  afterAll(async () => {
    for (const c of clients) {
      c.close();
    }
    await gw?.close();
    await auth?.close();
  });

  const client = (token: string | undefined): ChatClient => {
    const c = chatClient(base, token);
    clients.push(c);
    return c;
  };

  it('emits session:expired and disconnects when the token expires; the stale token is then refused', async () => {
    const token = await auth.token(DEMO_USERS.auroraAdmin);
    const c = await connected(client(token));
    const disconnected = nextEvent<string>(c.socket, 'disconnect');
    // Connection limit: one socket per process here, so a second one is refused clearly.
    const err = await refused(client(token));
    expect(err.data).toEqual({ code: 'too_many_connections', retry_after: expect.any(Number) });
    expect(await nextEvent(c.socket, 'session:expired')).toMatchObject({ code: 'token_expired' });
    expect(await disconnected).toBe('io server disconnect');
    // The verifier allows 5 s of clock skew; past it the stale token is refused at the handshake.
    const { exp } = JSON.parse(
      Buffer.from(must(token.split('.')[1], 'token.split(".")[1]'), 'base64url').toString(),
    ) as { exp: number };
    await new Promise((r) => setTimeout(r, Math.max(0, exp * 1000 + 6500 - Date.now())));
    expect((await refused(client(token))).data).toEqual({ code: 'unauthorized' });
    // 3 attempts used (connect, refused for capacity, refused expired): the 4th is rate limited.
    const limited = await refused(client(await auth.token(DEMO_USERS.auroraAdmin)));
    expect(limited.data).toMatchObject({ code: 'rate_limited', retry_after: expect.any(Number) });
  });
});

import { randomUUID } from 'node:crypto';
import {
  createAuthFixture,
  DEMO_USERS,
  freePort,
  NATS_URL,
  type AuthFixture,
  type PrivateServer,
  type ServiceProcess,
  spawnService,
  startPrivateRedis,
  uniquePrefix,
  waitFor,
  deletePrefixStreams,
} from '@neonpro/testing';
import { connectOutcome, messageEnd, openSocket, SOCKET_BOUND_MS } from './socket-client.js';

const LIMIT = 3;

const metric = async (p: ServiceProcess, name: string): Promise<number> => {
  const text = await (await fetch(`${p.url}/metrics`)).text();
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)`, 'gm'))) {
    sum += Number(m[1]);
  }
  return sum;
};

/**
 * Drill: Redis (rate-limit counters, Socket.IO adapter and run registry) goes down and comes back.
 * One gateway fails open, one fails closed; neither restarts.
 */
describe('drill: Redis down', () => {
  const prefix = uniquePrefix('drill-redis');
  let redis: PrivateServer;
  let fx: AuthFixture;
  let agent: ServiceProcess;
  let open: ServiceProcess;
  let closed: ServiceProcess;
  const tokens = { open: '', closed: '' };

  beforeAll(async () => {
    redis = await startPrivateRedis();
    fx = await createAuthFixture();
    tokens.open = await fx.token(DEMO_USERS.auroraAdmin);
    tokens.closed = await fx.token(DEMO_USERS.auroraLima);
    const env = { ...fx.env, NATS_URL, NATS_SUBJECT_PREFIX: prefix, LOG_LEVEL: 'warn' };
    agent = spawnService('ai-agent', await freePort(), env);
    const gatewayEnv = (mode: 'open' | 'closed'): Record<string, string> => ({
      ...env,
      REDIS_URL: redis.url,
      REDIS_COMMAND_TIMEOUT_MS: '300',
      RATE_LIMIT_REDIS_FAIL_MODE: mode,
      RATE_LIMIT_KEY_PREFIX: `${prefix}:${mode}:rl:`,
      SOCKET_REDIS_PREFIX: `${prefix}:${mode}:sio:`,
      RATE_LIMIT_HEALTHCARE_LIMIT: String(LIMIT),
      RATE_LIMIT_HEALTHCARE_WINDOW_S: '600',
      RATE_LIMIT_AI_LIMIT: '1000',
      SOCKET_CONNECT_RATE_LIMIT: '1000',
    });
    open = spawnService('gateway', await freePort(), gatewayEnv('open'));
    closed = spawnService('gateway', await freePort(), gatewayEnv('closed'));
    await Promise.all([agent, open, closed].map((p) => p.waitReady()));
  });

  afterAll(async () => {
    await Promise.all([open, closed, agent].map((p) => p?.stop('SIGKILL')));
    await deletePrefixStreams(prefix);
    await redis?.dispose();
    await fx?.close();
  });

  const ready = async (p: ServiceProcess): Promise<number> => (await fetch(`${p.url}/health/ready`)).status;

  const patients = async (p: ServiceProcess, token: string): Promise<{ status: number; code?: string }> => {
    const r = await fetch(`${p.url}/v1/patients?limit=5`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(SOCKET_BOUND_MS),
    });
    const body = (await r.json()) as { code?: string };
    return { status: r.status, code: body.code };
  };

  /** LIMIT requests pass, the next one is refused: the limit is enforced through Redis. */
  const expectLimitEnforced = async (p: ServiceProcess, token: string): Promise<void> => {
    const statuses: number[] = [];
    for (let i = 0; i <= LIMIT; i++) {
      statuses.push((await patients(p, token)).status);
    }
    expect(statuses).toEqual([...Array<number>(LIMIT).fill(200), 429]);
  };

  /** A socket chat turn: its ack and how the stream ended (or the handshake's refusal). */
  const socketChat = async (
    p: ServiceProcess,
    token: string,
  ): Promise<{ connect: unknown; ack?: Record<string, unknown>; end?: string }> => {
    const { socket, received } = openSocket(p.url, token);
    try {
      const connect = await connectOutcome(socket);
      if (!connect.connected) {
        return { connect };
      }
      const ack = (await socket
        .timeout(SOCKET_BOUND_MS)
        .emitWithAck('chat:send', { message: 'oi', client_message_id: `drill-${randomUUID()}` })) as Record<
        string,
        unknown
      >;
      if (ack.ok !== true) {
        return { connect, ack };
      }
      const end = await messageEnd(received, String(ack.message_id));
      return { connect, ack: { ok: true }, end: end.event };
    } finally {
      socket.disconnect();
    }
  };

  it('follows the fail mode while Redis is down and enforces limits again once it is back', async () => {
    // Redis up: limits enforced, sockets chat.
    await expectLimitEnforced(open, tokens.open);
    await expectLimitEnforced(closed, tokens.closed);
    expect(await socketChat(open, tokens.open)).toEqual({
      connect: { connected: true },
      ack: { ok: true },
      end: 'chat:done',
    });

    // A socket already connected to the fail-closed gateway when Redis dies.
    const early = openSocket(closed.url, tokens.closed);
    expect(await connectOutcome(early.socket)).toEqual({ connected: true });
    const pids = [open.child.pid, closed.child.pid];
    const errorsBefore = await metric(open, 'gateway_rate_limit_store_errors_total');
    await redis.stop();

    // Fail open: served without limits (well past LIMIT), counted by the metric, still ready.
    const served = [];
    for (let i = 0; i < LIMIT * 2; i++) {
      served.push(await patients(open, tokens.open));
    }
    expect(served.map((r) => r.status)).toEqual(Array<number>(LIMIT * 2).fill(200));
    expect(await metric(open, 'gateway_rate_limit_store_errors_total')).toBeGreaterThan(errorsBefore);
    await waitFor(async () => (await ready(open)) === 200, 'the fail-open gateway to stay ready');

    // Fail closed: limited routes refuse with 503 upstream_unavailable. Readiness stays 200: Redis is
    // shared, so gating on it would take every replica out of service at once.
    expect(await patients(closed, tokens.closed)).toEqual({ status: 503, code: 'upstream_unavailable' });
    expect(await ready(closed)).toBe(200);

    // Socket.IO: see README (Realtime chat, "Redis down").
    expect(await socketChat(open, tokens.open)).toEqual({
      connect: { connected: true },
      ack: { ok: true },
      end: 'chat:done',
    });
    expect(await socketChat(closed, tokens.closed)).toEqual({
      connect: { connected: false, code: 'upstream_unavailable' },
    });

    const refusedSend = (await early.socket
      .timeout(SOCKET_BOUND_MS)
      .emitWithAck('chat:send', { message: 'oi', client_message_id: `drill-${randomUUID()}` })) as {
      ok: boolean;
      error?: { code: string };
    };
    expect(refusedSend).toMatchObject({ ok: false, error: { code: 'upstream_unavailable' } });
    expect(early.socket.connected).toBe(true);
    early.socket.disconnect();

    await redis.start();
    const storeOk = async (p: ServiceProcess): Promise<boolean> =>
      ((await (await fetch(`${p.url}/health/ready`)).json()) as { checks: { rate_limit_store: { ok: boolean } } })
        .checks.rate_limit_store.ok;
    await waitFor(() => storeOk(closed), 'the fail-closed gateway to see Redis again', 30_000);
    // The restarted Redis is empty: fresh windows, enforced again on both.
    await waitFor(async () => (await patients(open, tokens.open)).status === 200, 'counting to resume', 30_000);
    await waitFor(async () => (await patients(open, tokens.open)).status === 429, 'the open limit to apply', 30_000);
    await expectLimitEnforced(closed, tokens.closed);
    expect(await socketChat(open, tokens.open)).toEqual({
      connect: { connected: true },
      ack: { ok: true },
      end: 'chat:done',
    });

    expect([open.running, closed.running, agent.running]).toEqual([true, true, true]);
    expect([open.child.pid, closed.child.pid]).toEqual(pids);
  });
});

import { connect } from 'node:net';
import {
  type AuthFixture,
  createAuthFixture,
  DEMO_USERS,
  freePort,
  NATS_URL,
  type ServiceProcess,
  spawnService,
  uniquePrefix,
  waitFor,
  deletePrefixStreams,
} from '@neonpro/testing';

/**
 * Built processes: the W3C trace context crosses HTTP → NATS → agent logs, a gateway whose
 * Redis is unreachable keeps serving (fail open) and says so in its log and metrics, a known
 * caller's read is answered at the edge, and a request refused before routing has its request line.
 */
describe('E2E: trace propagation and Redis fail-open (built processes)', () => {
  const prefix = uniquePrefix('e2e-edge');
  let gateway: ServiceProcess;
  let agent: ServiceProcess;
  let fx: AuthFixture;
  let authorization: string;

  beforeAll(async () => {
    fx = await createAuthFixture();
    authorization = `Bearer ${await fx.token(DEMO_USERS.auroraReception)}`;
    const common = { NATS_URL, NATS_SUBJECT_PREFIX: prefix, ...fx.env };
    agent = spawnService('ai-agent', await freePort(), { ...common, AGENT_INSTANCE_ID: 'e2e-edge' });
    gateway = spawnService('gateway', await freePort(), {
      ...common,
      REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
      REDIS_COMMAND_TIMEOUT_MS: '100',
    });
    await Promise.all([gateway, agent].map((p) => p.waitReady()));
  });

  afterAll(async () => {
    await Promise.all([gateway, agent].filter(Boolean).map((p) => p.stop('SIGKILL')));
    await deletePrefixStreams(prefix);
    await fx?.close();
  });

  it('carries the caller trace id to the agent logs with a new span id for the hop', async () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const parentSpan = 'b7ad6b7169203331';
    const r = await fetch(`${gateway.url}/v1/ai/chat`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization,
        'x-request-id': 'e2e-trace-1',
        traceparent: `00-${traceId}-${parentSpan}-01`,
      },
      body: JSON.stringify({ message: 'Olá' }),
    });
    expect(r.status).toBe(200);
    const mine = () => agent.logs().filter((x) => x.client_request_id === 'e2e-trace-1');
    await waitFor(() => mine().length > 0, 'agent log lines for the request');
    const lines = mine();
    for (const l of lines) {
      expect(l.trace_id).toBe(traceId);
      expect(l.span_id).toMatch(/^[0-9a-f]{16}$/);
      expect(l.span_id).not.toBe(parentSpan);
    }
  });

  it('starts a trace when the caller sends none', async () => {
    const r = await fetch(`${gateway.url}/v1/ai/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization, 'x-request-id': 'e2e-trace-2' },
      body: JSON.stringify({ message: 'Olá' }),
    });
    expect(r.status).toBe(200);
    const mine = () => agent.logs().filter((x) => x.client_request_id === 'e2e-trace-2');
    await waitFor(() => mine().length > 0, 'agent log line for the request');
    expect(mine()[0]?.trace_id).toMatch(/^[0-9a-f]{32}$/);
  });

  it('with Redis unreachable it fails open: requests pass, one log line, a metric', async () => {
    expect(
      gateway.logs().some((l) => l.level === 'warn' && l.msg === 'rate-limit store unavailable: failing open'),
    ).toBe(true);
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metrics).toMatch(/gateway_rate_limit_store_errors_total\{[^}]*fail_mode="open"[^}]*\} [1-9]/);
    expect(gateway.output.join('')).not.toMatch(/"statusCode":500/);
  });

  it("answers a known caller's read at the edge, failing open on the limiter, with its request line", async () => {
    const list = await fetch(`${gateway.url}/v1/patients?limit=1`, { headers: { authorization } });
    expect(list.status).toBe(200);
    const id = ((await list.json()) as { data: { id: string }[] }).data[0]!.id;
    const r = await fetch(`${gateway.url}/v1/patients/${id}`, { headers: { authorization } });
    expect(r.status).toBe(200);
    expect(((await r.json()) as { id: string }).id).toBe(id);
    // Redis is unreachable: no limit was counted, so no limit headers (fail open), as on Nest's path.
    expect(r.headers.get('ratelimit')).toBeNull();
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metrics).toMatch(/gateway_edge_answers_total\{route="\/v1\/patients\/:id"[^}]*\} [1-9]/);
    const requestId = r.headers.get('x-request-id');
    const line = () => gateway.logs().find((l) => l.msg === 'request completed' && l.request_id === requestId);
    await waitFor(() => line() !== undefined, 'the request line');
    expect(line()).toMatchObject({ level: 'info', method: 'GET', route: '/v1/patients/:id', status: 200 });
    expect(JSON.stringify(line())).not.toContain(id);
  });

  it('logs a request refused before routing under the id it was answered with, never its URL', async () => {
    // Fastify's router: a path it cannot decode (with a CPF in the query, which must not be logged).
    const r = await fetch(`${gateway.url}/v1/patients/%E0%A4%A?cpf=52998224725`, { headers: { authorization } });
    expect(r.status).toBe(400);
    const routerId = ((await r.json()) as { request_id: string }).request_id;
    // Node's parser: headers over its limit, before any request exists.
    const socket = connect(Number(new URL(gateway.url).port), '127.0.0.1');
    let raw = '';
    let closed = false;
    socket.on('data', (d: Buffer) => (raw += d.toString('latin1')));
    socket.on('close', () => (closed = true));
    socket.on('error', () => undefined);
    socket.write(`GET /v1/me HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20000)}\r\n\r\n`);
    await waitFor(() => closed, 'the parser refusal');
    const parserId = /\r\nx-request-id: ([^\r]+)\r\n/i.exec(raw)?.[1];
    expect(raw).toMatch(/^HTTP\/1\.1 431 /);

    const line = (id: string | undefined) =>
      gateway.logs().find((l) => l.msg === 'request refused before routing' && l.request_id === id);
    await waitFor(() => line(routerId) !== undefined && line(parserId) !== undefined, 'both request lines');
    expect(line(routerId)).toMatchObject({
      level: 'info',
      method: 'GET',
      status: 400,
      code: 'invalid_request',
      reason: 'FST_ERR_BAD_URL',
    });
    expect(line(parserId)).toMatchObject({
      level: 'info',
      status: 431,
      code: 'invalid_request',
      reason: 'HPE_HEADER_OVERFLOW',
    });
    const logged = JSON.stringify([line(routerId), line(parserId)]);
    expect(logged).not.toMatch(/52998224725|%E0|patients|aaaa/);
  });
});

import {
  createTestDatabase,
  freePort,
  NATS_URL,
  type ServiceProcess,
  spawnService,
  type TestDatabase,
  uniquePrefix,
  waitFor,
} from '@neonpro/testing';

/** Boots the built gateway and two agent replicas as real processes and talks HTTP to them. */
describe('E2E: gateway → NATS → two ai-agent replicas (built processes)', () => {
  const prefix = uniquePrefix('e2e-chat');
  let gateway: ServiceProcess;
  let agents: ServiceProcess[];
  let tdb: TestDatabase;

  beforeAll(async () => {
    // The gateway is ready only with its Postgres reachable.
    tdb = await createTestDatabase();
    const common = { NATS_URL, NATS_SUBJECT_PREFIX: prefix };
    agents = await Promise.all(
      ['a', 'b'].map(async (id) =>
        spawnService('ai-agent', await freePort(), {
          ...common,
          AGENT_INSTANCE_ID: `e2e-${id}`,
          AGENT_TOKEN_DELAY_MS: '20',
        }),
      ),
    );
    // This suite sends more than the ai tier's 20/min; limits have their own tests.
    gateway = spawnService('gateway', await freePort(), {
      ...common,
      SHUTDOWN_TIMEOUT_MS: '10000',
      RATE_LIMIT_AI_LIMIT: '1000',
      DATABASE_URL: tdb.url,
    });
    await Promise.all([gateway, ...agents].map((p) => p.waitReady()));
  });

  afterAll(async () => {
    await Promise.all([gateway, ...(agents ?? [])].filter(Boolean).map((p) => p.stop('SIGKILL')));
    await tdb?.drop();
  });

  const chat = (message: string, accept = 'application/json', headers: Record<string, string> = {}) =>
    fetch(`${gateway.url}/v1/ai/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept, ...headers },
      body: JSON.stringify({ message }),
    });

  it('answers REST JSON from an agent, in the user language', async () => {
    const pt = await chat('Olá, quais consultas temos hoje?');
    expect(pt.status).toBe(200);
    expect(((await pt.json()) as { content: string }).content).toMatch(/^Olá!/);
    const en = await chat('Hello, what appointments do we have today?');
    expect(((await en.json()) as { content: string }).content).toMatch(/^Hello!/);
  });

  it('streams SSE whose tokens rebuild the final content', async () => {
    const r = await chat('Bom dia! Tudo bem?', 'text/event-stream');
    expect(r.headers.get('content-type')).toContain('text/event-stream');
    const blocks = (await r.text()).split('\n\n').filter(Boolean);
    const events = blocks.map((b) => ({
      event: /event: (.*)/.exec(b)?.[1],
      data: JSON.parse(/data: (.*)/.exec(b)?.[1] ?? 'null') as { delta?: string; content?: string },
    }));
    const done = events.at(-1)!;
    expect(done.event).toBe('done');
    expect(
      events
        .filter((e) => e.event === 'token')
        .map((e) => e.data.delta)
        .join(''),
    ).toBe(done.data.content);
  });

  it('shares the work between both replicas and logs the request id in the agent', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `e2e-req-${i}`);
    const results = await Promise.all(ids.map((id) => chat('oi', 'application/json', { 'x-request-id': id })));
    expect(results.every((r) => r.status === 200)).toBe(true);
    const servedBy = () => agents.map((a) => ids.filter((id) => a.logs().some((l) => l.request_id === id)).length);
    // An agent logs "message completed" just after its last reply, so wait for the lines to land.
    await waitFor(() => servedBy().reduce((x, y) => x + y, 0) === 20, 'agent logs for every request');
    const served = servedBy();
    expect(served[0]).toBeGreaterThan(0);
    expect(served[1]).toBeGreaterThan(0);
  });

  it('never writes the chat text to any log', async () => {
    const secret = 'CPF 529.982.247-25 paciente Maria Secreta';
    expect((await chat(secret)).status).toBe(200);
    for (const p of [gateway, ...agents]) expect(p.output.join('')).not.toContain('Maria Secreta');
  });

  it('on SIGTERM lets the in-flight stream finish, then the gateway exits 0', async () => {
    const response = await chat(
      'uma mensagem mais longa para manter o fluxo aberto por alguns instantes',
      'text/event-stream',
    );
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let body = decoder.decode((await reader.read()).value);
    expect(body).toContain('event: token');
    const exit = gateway.stop('SIGTERM');
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      body += decoder.decode(value);
    }
    expect(body).toContain('event: done');
    expect(await exit).toBe(0);
  });

  it('agents drain and exit 0 on SIGTERM', async () => {
    expect(await agents[0].stop('SIGTERM')).toBe(0);
  });
});

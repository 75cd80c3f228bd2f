import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { AGENT_PATTERNS, type AgentEvent, agentEventSchema, agentSubjects, NATS_HEADERS } from '@neonpro/contracts';
import {
  createTestDatabase,
  freePort,
  NATS_URL,
  REPO_ROOT,
  type ServiceProcess,
  spawnService,
  type TestDatabase,
  uniquePrefix,
  waitFor,
} from '@neonpro/testing';
import { buildFixture, claimsFor } from '../../services/ai-agent/test/support/clinic-fixtures.js';

/**
 * Boots the built gateway and two built agent replicas as real processes. The agents run through
 * a harness that hands them the test-only in-memory ports (main.ts gets the Postgres adapters).
 * Until the gateway verifies JWTs and forwards the caller's claims, chat through the gateway is
 * refused by the agents; answered runs are driven over NATS with the claims header set.
 */
describe('E2E: gateway → NATS → two ai-agent replicas (built processes)', () => {
  const prefix = uniquePrefix('e2e-chat');
  const subjects = agentSubjects(prefix);
  const fixture = buildFixture();
  const claims = JSON.stringify(claimsFor(fixture.ids.aurora));
  let gateway: ServiceProcess;
  let agents: ServiceProcess[];
  let tdb: TestDatabase;
  let nc: NatsConnection;

  beforeAll(async () => {
    // The gateway is ready only with its Postgres reachable.
    tdb = await createTestDatabase();
    const common = { NATS_URL, NATS_SUBJECT_PREFIX: prefix };
    const support = join(REPO_ROOT, 'test/e2e/support');
    agents = await Promise.all(
      ['a', 'b'].map(async (id) =>
        spawnService(
          'ai-agent',
          await freePort(),
          {
            ...common,
            AGENT_INSTANCE_ID: `e2e-${id}`,
            AGENT_TOKEN_DELAY_MS: '20',
            E2E_FIXTURE: JSON.stringify(fixture),
          },
          {
            entry: join(support, 'agent-with-memory-ports.ts'),
            nodeArgs: ['--no-warnings', '--import', join(support, 'register-ts-hooks.mjs')],
          },
        ),
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
    nc = await connect({ servers: NATS_URL });
  });

  afterAll(async () => {
    await nc?.drain();
    await Promise.all([gateway, ...(agents ?? [])].filter(Boolean).map((p) => p.stop('SIGKILL')));
    await tdb?.drop();
  });

  const chat = (message: string, accept = 'application/json', extra: Record<string, string> = {}) =>
    fetch(`${gateway.url}/v1/ai/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept, ...extra },
      body: JSON.stringify({ message }),
    });

  /** One run straight over NATS, as the gateway sends it, with the caller's claims. */
  async function natsChat(message: string, requestId: string = randomUUID()): Promise<AgentEvent[]> {
    const inbox = `_INBOX.${randomUUID()}`;
    const sub = nc.subscribe(inbox);
    const h = headers();
    h.set(NATS_HEADERS.requestId, requestId);
    h.set(NATS_HEADERS.claims, claims);
    const data = { session_id: randomUUID(), message_id: randomUUID(), message };
    nc.publish(subjects.chat, JSON.stringify({ pattern: AGENT_PATTERNS.chat, id: randomUUID(), data }), {
      reply: inbox,
      headers: h,
    });
    const events: AgentEvent[] = [];
    const timer = setTimeout(() => sub.unsubscribe(), 20000);
    for await (const m of sub) {
      const packet = m.json<{ response?: unknown; isDisposed?: boolean }>();
      if (packet.response !== undefined) events.push(agentEventSchema.parse(packet.response));
      if (packet.isDisposed) break;
    }
    clearTimeout(timer);
    return events;
  }

  it('through the gateway without the caller claims, the agents refuse: 502 unauthorized problem', async () => {
    const r = await chat('Olá, quais consultas temos hoje?');
    expect(r.status).toBe(502);
    expect(r.headers.get('content-type')).toContain('application/problem+json');
    expect(await r.json()).toMatchObject({ code: 'unauthorized' });
  });

  it('the built agents answer from clinic data, streaming tokens that rebuild the content', async () => {
    const events = await natsChat('quais consultas a Dra. Lima tem amanhã?');
    const done = events.at(-1);
    if (done?.type !== 'done') throw new Error(`no done event: ${JSON.stringify(done)}`);
    expect(done.content).toContain('Fernanda Lima tem 2 consultas amanhã');
    expect(events.filter((e) => e.type === 'tool').map((e) => e.type === 'tool' && e.status)).toEqual([
      'started',
      'succeeded',
    ]);
    expect(events.flatMap((e) => (e.type === 'token' ? [e.delta] : [])).join('')).toBe(done.content);
    const en = await natsChat('Hello, what appointments do we have today?');
    expect(en.at(-1)).toMatchObject({ type: 'done', content: expect.stringMatching(/appointment/) as unknown });
  });

  it('shares the work between both replicas and logs the request id in the agent', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `e2e-req-${i}`);
    const results = await Promise.all(ids.map((id) => natsChat('oi', id)));
    expect(results.every((r) => r.at(-1)?.type === 'done')).toBe(true);
    const servedBy = () => agents.map((a) => ids.filter((id) => a.logs().some((l) => l.request_id === id)).length);
    // An agent logs "message completed" just after its last reply, so wait for the lines to land.
    await waitFor(() => servedBy().reduce((x, y) => x + y, 0) === 20, 'agent logs for every request');
    const served = servedBy();
    expect(served[0]).toBeGreaterThan(0);
    expect(served[1]).toBeGreaterThan(0);
  });

  it('never writes the chat text or patient data to any log', async () => {
    const secret = 'dados da paciente Maria José, CPF 529.982.247-25';
    const events = await natsChat(secret);
    expect(events.at(-1)).toMatchObject({ type: 'done', content: expect.stringContaining('98765-4321') as unknown });
    expect((await chat(secret)).status).toBe(502);
    for (const p of [gateway, ...agents]) {
      const out = p.output.join('');
      expect(out).not.toContain('Maria José');
      expect(out).not.toContain('529.982.247-25');
      expect(out).not.toContain('98765-4321');
    }
  });

  it('agents finish in-flight runs on SIGTERM, then exit 0; the gateway exits 0', async () => {
    const runs = Array.from({ length: 4 }, () => natsChat('uma resposta longa, por favor'));
    const exit = agents[0].stop('SIGTERM');
    const results = await Promise.all(runs);
    expect(results.every((r) => r.at(-1)?.type === 'done')).toBe(true);
    expect(await exit).toBe(0);
    expect(await gateway.stop('SIGTERM')).toBe(0);
  });
});

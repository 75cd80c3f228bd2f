import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { AGENT_PATTERNS, type AgentEvent, agentEventSchema, agentSubjects } from '@neonpro/contracts';
import { randomUUID } from 'node:crypto';
import { type AgentApp, type AgentPorts, startAgent } from '../src/app.js';
import { NATS_URL, uniquePrefix, waitFor } from '@neonpro/testing';
import { buildFixture, claimsFor } from './support/clinic-fixtures.js';
import { InMemoryClinicData } from './support/in-memory-clinic-data.js';
import { InMemoryConversations } from './support/in-memory-conversations.js';

const fixture = buildFixture();
const ports = (): AgentPorts => ({
  clinicData: new InMemoryClinicData([fixture.aurora, fixture.beta]),
  conversations: new InMemoryConversations(),
});
const CLAIMS = JSON.stringify(claimsFor(fixture.ids.aurora));

/** Sends one raw request the way the gateway does and collects the agent's reply packets. */
async function rawCall(
  nc: NatsConnection,
  subject: string,
  body: string,
  timeoutMs = 5000,
  claims: string | null = CLAIMS,
): Promise<AgentEvent[]> {
  const inbox = `_INBOX.${randomUUID()}`;
  const events: AgentEvent[] = [];
  const sub = nc.subscribe(inbox);
  const h = headers();
  h.set('x-request-id', 'it-req-1');
  if (claims !== null) h.set('x-neonpro-claims', claims);
  nc.publish(subject, body, { reply: inbox, headers: h });
  const timer = setTimeout(() => sub.unsubscribe(), timeoutMs);
  for await (const m of sub) {
    const packet = m.json<{ response?: unknown; isDisposed?: boolean }>();
    if (packet.response !== undefined) events.push(agentEventSchema.parse(packet.response));
    if (packet.isDisposed) break;
  }
  clearTimeout(timer);
  sub.unsubscribe();
  return events;
}

function chatPacket(message: string): string {
  return JSON.stringify({
    pattern: AGENT_PATTERNS.chat,
    id: randomUUID(),
    data: { session_id: randomUUID(), message_id: randomUUID(), message },
  });
}

describe('ai-agent over real NATS', () => {
  const prefix = uniquePrefix('agent-it');
  const subjects = agentSubjects(prefix);
  let agents: AgentApp[] = [];
  let nc: NatsConnection;

  beforeAll(async () => {
    const env = { NATS_URL, NATS_SUBJECT_PREFIX: prefix, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent' };
    agents = await Promise.all([
      startAgent({ ...env, AGENT_INSTANCE_ID: 'a1' }, ports()),
      startAgent({ ...env, AGENT_INSTANCE_ID: 'a2' }, ports()),
    ]);
    nc = await connect({ servers: NATS_URL });
  });

  afterAll(async () => {
    await nc?.drain();
    await Promise.all(agents.map((a) => a.close()));
  });

  it('streams a complete reply in order: tool events, tokens, then done', async () => {
    const events = await rawCall(nc, subjects.chat, chatPacket('quais consultas a Dra. Lima tem amanhã?'));
    const tokens = events.filter((e) => e.type === 'token');
    const last = events.at(-1);
    expect(events.slice(0, 2)).toEqual([
      { type: 'tool', name: 'list_appointments', status: 'started' },
      { type: 'tool', name: 'list_appointments', status: 'succeeded' },
    ]);
    expect(tokens.length).toBeGreaterThan(3);
    expect(last?.type).toBe('done');
    expect(events.slice(2, -1).every((e) => e.type === 'token')).toBe(true);
    if (last?.type !== 'done') throw new Error('no done event');
    expect(tokens.map((t) => (t.type === 'token' ? t.delta : '')).join('')).toBe(last.content);
    expect(last.content).toContain('Fernanda Lima tem 2 consultas amanhã');
  });

  it('refuses a run without valid caller claims with unauthorized', async () => {
    for (const claims of [null, 'not json', JSON.stringify({ sub: 'x', clinic_id: fixture.ids.aurora })]) {
      const events = await rawCall(nc, subjects.chat, chatPacket('quais consultas temos hoje?'), 5000, claims);
      expect(events).toEqual([expect.objectContaining({ type: 'error', code: 'unauthorized' })]);
    }
  });

  it('spreads work across both replicas of the queue group', async () => {
    const runsBefore = await Promise.all(agents.map((a) => runsTotal(a)));
    await Promise.all(Array.from({ length: 40 }, () => rawCall(nc, subjects.chat, chatPacket('oi'))));
    const runsAfter = await Promise.all(agents.map((a) => runsTotal(a)));
    const delta = runsAfter.map((v, i) => v - (runsBefore[i] ?? 0));
    expect(delta.reduce((a, b) => a + b, 0)).toBe(40);
    expect(delta[0]).toBeGreaterThan(0);
    expect(delta[1]).toBeGreaterThan(0);
  });

  it('answers a malformed payload with an error event and keeps serving', async () => {
    const notJson = await rawCall(nc, subjects.chat, '{this is not json');
    expect(notJson).toEqual([expect.objectContaining({ type: 'error', code: 'invalid_message' })]);

    const wrongShape = await rawCall(
      nc,
      subjects.chat,
      JSON.stringify({ pattern: AGENT_PATTERNS.chat, id: randomUUID(), data: { message: 42 } }),
    );
    expect(wrongShape).toEqual([expect.objectContaining({ type: 'error', code: 'invalid_message' })]);

    const bareJson = await rawCall(nc, subjects.chat, JSON.stringify({ hello: 'world' }));
    expect(bareJson[0]).toMatchObject({ type: 'error', code: 'invalid_message' });

    const ok = await rawCall(nc, subjects.chat, chatPacket('still there?'));
    expect(ok.at(-1)?.type).toBe('done');
  });

  it('exposes health and metrics on its ops port', async () => {
    const base = `http://127.0.0.1:${agents[0].port}`;
    const live = await fetch(`${base}/health/live`);
    expect(live.status).toBe(200);
    const ready = await fetch(`${base}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ok', checks: { nats: { ok: true } } });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('agent_inflight');
    expect(metrics).toContain('agent_invalid_messages_total');
    // The tool-calling run may have gone to either replica.
    const both = (
      await Promise.all(agents.map(async (a) => (await fetch(`http://127.0.0.1:${a.port}/metrics`)).text()))
    ).join('\n');
    expect(both).toMatch(/agent_tool_calls_total\{tool="list_appointments",status="succeeded"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/agent_model_tokens_total\{provider="local",kind="output"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/agent_run_duration_seconds_count\{[^}]*provider="local",outcome="ok"\} [1-9]/);
  });
});

async function runsTotal(agent: AgentApp): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${agent.port}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('agent_runs_total{'))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

describe('ai-agent bounded concurrency and cancellation', () => {
  const prefix = uniquePrefix('agent-load');
  const subjects = agentSubjects(prefix);
  let agent: AgentApp;
  let nc: NatsConnection;

  beforeAll(async () => {
    agent = await startAgent(
      {
        NATS_URL,
        NATS_SUBJECT_PREFIX: prefix,
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'silent',
        AGENT_CONCURRENCY: '1',
        AGENT_QUEUE_MAX: '1',
        AGENT_TOKEN_DELAY_MS: '40',
      },
      ports(),
    );
    nc = await connect({ servers: NATS_URL });
  });

  afterAll(async () => {
    await nc?.drain();
    await agent?.close();
  });

  const metric = async (name: string): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${agent.port}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
    return Number(line?.split(' ').at(-1));
  };

  it('runs one, queues one, and refuses the next at once with agent_overloaded', async () => {
    const running = rawCall(nc, subjects.chat, chatPacket('primeira mensagem longa'), 15000);
    await waitFor(async () => (await metric('agent_inflight')) === 1, 'first run to start');
    const queued = rawCall(nc, subjects.chat, chatPacket('segunda mensagem'), 15000);
    await waitFor(async () => (await metric('agent_queue_depth')) === 1, 'second run to queue');
    const refused = await rawCall(nc, subjects.chat, chatPacket('terceira'), 15000);
    expect(refused).toEqual([expect.objectContaining({ type: 'error', code: 'agent_overloaded' })]);
    expect((await running).at(-1)?.type).toBe('done');
    expect((await queued).at(-1)?.type).toBe('done');
    expect(await metric('agent_queue_depth')).toBe(0);
    expect(await metric('agent_overloaded_total')).toBe(1);
  });

  it('stops a long run when agent.cancel names its message id', async () => {
    const messageId = randomUUID();
    const packet = JSON.stringify({
      pattern: AGENT_PATTERNS.chat,
      id: randomUUID(),
      data: { session_id: randomUUID(), message_id: messageId, message: 'uma resposta bem longa por favor' },
    });
    const call = rawCall(nc, subjects.chat, packet, 15000);
    await waitFor(async () => (await metric('agent_inflight')) === 1, 'run to start');
    nc.publish(subjects.cancel, JSON.stringify({ pattern: AGENT_PATTERNS.cancel, data: { message_id: messageId } }));
    const events = await call;
    expect(events.at(-1)).toMatchObject({ type: 'error', code: 'cancelled' });
    expect(events.some((e) => e.type === 'done')).toBe(false);
  });
});

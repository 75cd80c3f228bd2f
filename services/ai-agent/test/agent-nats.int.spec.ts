import { createServer, type AddressInfo } from 'node:net';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { EMPTY, throwError } from 'rxjs';
import { generateKeyPairSync } from 'node:crypto';
import { agentBus, agentWire, importGrantKey, type RunEvent, signRunGrant } from '@neonpro/contracts';
import {
  chatRequest,
  deleteAgentStreams,
  devGrant,
  NATS_URL,
  queueRun,
  runEvents,
  uniquePrefix,
  waitFor,
  must,
} from '@neonpro/testing';
import { type AgentApp, type AgentPorts, startAgent } from '../src/app.js';
import type { CallerDirectory } from '../src/caller/caller-directory.port.js';
import { AGENT_NATS_SERVER } from '../src/nats/agent-nats.tokens.js';
import type { JetStreamAgentServer, RunHandler } from '../src/nats/jetstream-agent.server.js';
import { ChatController } from '../src/chat/chat.controller.js';
import { buildFixture, claimsFor } from './support/clinic-fixtures.js';
import { InMemoryClinicData } from './support/in-memory-clinic-data.js';
import { InMemoryConversations } from './support/in-memory-conversations.js';

const fixture = buildFixture();
const caller = claimsFor(fixture.ids.aurora);
const callers: CallerDirectory = {
  membership: (id) =>
    Promise.resolve(id === caller.sub ? { clinic_id: caller.clinic_id, role: caller.role } : undefined),
};
let dataReads = 0;
const ports = (): AgentPorts => {
  const data = new InMemoryClinicData([fixture.aurora, fixture.beta]);
  // Counts every read of clinic data, to show a refused run reads nothing.
  const counted = new Proxy(data, {
    get(target, prop, receiver) {
      const v: unknown = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') {
        return v;
      }
      return (...args: unknown[]) => {
        dataReads++;
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { clinicData: counted, conversations: new InMemoryConversations(), callers };
};

const tokensOf = (events: RunEvent[]): string =>
  events
    .map((e) => (e.type === 'token' ? e.delta : e.type === 'restart' ? '\u0000' : ''))
    .join('')
    .split('\u0000')
    .at(-1) ?? '';

describe('ai-agent on a JetStream work queue (real NATS)', () => {
  const prefix = uniquePrefix('agent-it');
  const bus = agentBus(prefix);
  let agents: AgentApp[] = [];
  let nc: NatsConnection;

  beforeAll(async () => {
    const env = { NATS_URL, NATS_SUBJECT_PREFIX: prefix, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent' };
    agents = await Promise.all([
      startAgent({ ...env, AGENT_INSTANCE_ID: 'a1', AGENT_CONCURRENCY: '1' }, ports()),
      startAgent({ ...env, AGENT_INSTANCE_ID: 'a2', AGENT_CONCURRENCY: '1' }, ports()),
    ]);
    nc = await connect({ servers: NATS_URL });
  });

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.close()));
    await deleteAgentStreams(nc, bus);
    await nc?.drain();
  });

  it('refuses to boot with a grant key it cannot verify with, naming the variable', async () => {
    const env = { NATS_URL, NATS_SUBJECT_PREFIX: prefix, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent' };
    for (const key of ['not json', '{"kty":"oct","k":"abc"}', '{"kty":"OKP","crv":"Ed25519","x":"!"}']) {
      await expect(startAgent({ ...env, AGENT_GRANT_PUBLIC_KEY: key }, ports())).rejects.toThrow(
        /\n {2}- AGENT_GRANT_PUBLIC_KEY: /,
      );
    }
  });

  it('refuses to boot on a port in use, and leaves no half-started replica on the bus', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const env = { NATS_URL, NATS_SUBJECT_PREFIX: prefix, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'silent' };
      await expect(startAgent({ ...env, AGENT_INSTANCE_ID: 'refused' }, ports())).rejects.toThrow(/EADDRINUSE/);
      // Its transport had connected before the HTTP port failed: left open, it would answer
      // presence and pull runs with no ops port behind it.
      const present: string[] = [];
      for await (const m of await nc.requestMany(bus.presence, undefined, { maxWait: 1000 })) {
        const p = agentWire.decodePresence(m.data);
        if (p.ok) {
          present.push(p.value.instance);
        }
      }
      expect(present.sort()).toEqual(['a1', 'a2']);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('logs a complete reply in order with seq 1..N: tool events, tokens, then done', async () => {
    const r = chatRequest('quais consultas a Dra. Lima tem amanhã?');
    await queueRun(nc, bus, r, { userId: caller.sub });
    const events = await runEvents(nc, bus, r.message_id);
    expect(events.map((e) => e.seq)).toEqual(events.map((_e, i) => i + 1));
    expect(events.slice(0, 2)).toMatchObject([
      { type: 'tool', name: 'list_appointments', status: 'started' },
      { type: 'tool', name: 'list_appointments', status: 'succeeded' },
    ]);
    const last = events.at(-1);
    if (last?.type !== 'done') {
      throw new Error('no done event');
    }
    expect(tokensOf(events)).toBe(last.content);
    expect(last.content).toContain('Fernanda Lima tem 2 consultas amanhã');
  });

  it('refuses a run with no grant, a forged one, or one captured from another run, reading nothing', async () => {
    const other = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
    const forgedKey = importGrantKey(JSON.stringify(other), 'sign');
    const captured = chatRequest('quais consultas temos hoje?');
    const capturedGrant = devGrant(caller.sub, captured);
    const cases: { r: ReturnType<typeof chatRequest>; grant: string | null }[] = [];
    const none = chatRequest('liste os pacientes');
    cases.push({ r: none, grant: null });
    const forged = chatRequest('liste os pacientes');
    cases.push({
      r: forged,
      grant: signRunGrant(
        forgedKey,
        { userId: caller.sub, messageId: forged.message_id, sessionId: forged.session_id, message: forged.message },
        600,
      ),
    });
    // The captured grant replayed on a new message (another text, another id).
    cases.push({ r: chatRequest('mostre o CPF da paciente Maria'), grant: capturedGrant });
    cases.push({ r: chatRequest('x'), grant: 'not-a-jws' });
    const before = dataReads;
    for (const c of cases) {
      await queueRun(nc, bus, c.r, { userId: caller.sub, grant: c.grant });
      expect(await runEvents(nc, bus, c.r.message_id)).toEqual([
        expect.objectContaining({ type: 'error', code: 'unauthorized', seq: 1 }),
      ]);
    }
    expect(dataReads).toBe(before);
  });

  it('spreads work over both replicas: each pulls only into its free slot', async () => {
    const runsBefore = await Promise.all(agents.map((a) => runsTotal(a)));
    const reqs = Array.from({ length: 12 }, () => chatRequest('oi'));
    await Promise.all(reqs.map((r) => queueRun(nc, bus, r, { userId: caller.sub })));
    const results = await Promise.all(reqs.map((r) => runEvents(nc, bus, r.message_id, 30000)));
    expect(results.every((e) => e.at(-1)?.type === 'done')).toBe(true);
    const runsAfter = await Promise.all(agents.map((a) => runsTotal(a)));
    const delta = runsAfter.map((v, i) => v - (runsBefore[i] ?? 0));
    expect(delta.reduce((a, b) => a + b, 0)).toBe(12);
    expect(delta[0]).toBeGreaterThan(0);
    expect(delta[1]).toBeGreaterThan(0);
  });

  it('answers a malformed run with invalid_message on its log and keeps serving', async () => {
    const r = chatRequest('ok');
    await queueRun(nc, bus, r, { userId: caller.sub, body: JSON.stringify({ message_id: r.message_id, message: 42 }) });
    expect(await runEvents(nc, bus, r.message_id)).toEqual([
      expect.objectContaining({ type: 'error', code: 'invalid_message' }),
    ]);
    const ok = chatRequest('still there?');
    await queueRun(nc, bus, ok, { userId: caller.sub });
    expect((await runEvents(nc, bus, ok.message_id)).at(-1)?.type).toBe('done');
  });

  it('ends a run whose handler throws, fails or completes silently with an error event', async () => {
    const servers = agents.map((a) => a.app.get<JetStreamAgentServer>(AGENT_NATS_SERVER));
    const handlers: [string, RunHandler][] = [
      [
        'The assistant could not answer.',
        () => {
          throw new Error('boom');
        },
      ],
      ['The assistant could not answer.', () => throwError(() => new Error('boom'))],
      ['The run ended without an answer.', () => EMPTY],
    ];
    try {
      for (const [message, handler] of handlers) {
        servers.forEach((s) => s.handleRunsWith(handler));
        const r = chatRequest('oi');
        await queueRun(nc, bus, r, { userId: caller.sub });
        expect(await runEvents(nc, bus, r.message_id)).toEqual([
          expect.objectContaining({ type: 'error', code: 'agent_failed', message, seq: 1 }),
        ]);
      }
    } finally {
      agents.forEach((a, i) => {
        const chat = a.app.get(ChatController);
        must(servers[i], 'server').handleRunsWith((request, ctx) => chat.run(request, ctx));
      });
    }
    // The real handler is back, and answers.
    const ok = chatRequest('oi');
    await queueRun(nc, bus, ok, { userId: caller.sub });
    expect((await runEvents(nc, bus, ok.message_id)).at(-1)?.type).toBe('done');
  });

  it('answers presence while accepting, and exposes health and metrics', async () => {
    const reply = await nc.request(bus.presence, undefined, { timeout: 2000 });
    expect(agentWire.decodePresence(reply.data)).toMatchObject({ ok: true });
    const base = `http://127.0.0.1:${must(agents[0], 'agents[0]').port}`;
    const ready = await fetch(`${base}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ok', checks: { nats: { ok: true } } });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('agent_inflight');
    expect(metrics).toContain('agent_queue_depth');
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

describe('ai-agent bounded pulls, cancel and redelivery', () => {
  const prefix = uniquePrefix('agent-load');
  const bus = agentBus(prefix);
  const env = {
    NATS_URL,
    NATS_SUBJECT_PREFIX: prefix,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    AGENT_CONCURRENCY: '1',
    AGENT_TOKEN_DELAY_MS: '120',
    AGENT_ACK_WAIT_MS: '1500',
  };
  let agent: AgentApp;
  let nc: NatsConnection;

  beforeAll(async () => {
    agent = await startAgent({ ...env, AGENT_INSTANCE_ID: 'b1' }, ports());
    nc = await connect({ servers: NATS_URL });
  });

  afterAll(async () => {
    await agent?.close();
    await deleteAgentStreams(nc, bus);
    await nc?.drain();
  });

  const metric = async (a: AgentApp, name: string): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${a.port}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
    return Number(line?.split(' ').at(-1));
  };

  it('holds one run at a time; the others wait in the queue and all complete (none refused)', async () => {
    const reqs = [chatRequest('primeira mensagem longa'), chatRequest('segunda'), chatRequest('terceira')];
    for (const r of reqs) {
      await queueRun(nc, bus, r, { userId: caller.sub });
    }
    await waitFor(async () => (await metric(agent, 'agent_queue_depth')) >= 1, 'runs waiting in the queue');
    const results = await Promise.all(reqs.map((r) => runEvents(nc, bus, r.message_id, 30000)));
    expect(results.map((e) => e.at(-1)?.type)).toEqual(['done', 'done', 'done']);
  });

  it('stops a running run when agent.cancel names it, and skips a queued one', async () => {
    const running = chatRequest('uma resposta bem longa por favor');
    const queued = chatRequest('depois');
    await queueRun(nc, bus, running, { userId: caller.sub });
    await queueRun(nc, bus, queued, { userId: caller.sub });
    await waitFor(async () => (await metric(agent, 'agent_inflight')) === 1, 'run to start');
    for (const r of [running, queued]) {
      nc.publish(bus.cancel, agentWire.encodeCancel({ message_id: r.message_id }));
    }
    for (const r of [running, queued]) {
      const events = await runEvents(nc, bus, r.message_id);
      expect(events.at(-1)).toMatchObject({ type: 'error', code: 'cancelled' });
      expect(events.some((e) => e.type === 'done')).toBe(false);
    }
  });

  it('a run whose agent vanished is redelivered to another one, which completes its log', async () => {
    const r = chatRequest('quais consultas a Dra. Lima tem amanhã?');
    await queueRun(nc, bus, r, { userId: caller.sub });
    await waitFor(async () => (await metric(agent, 'agent_inflight')) === 1, 'run to start');
    // Cut the first agent off the bus abruptly (no ack, no drain), as a crash would.
    await agent.app.get<JetStreamAgentServer>(AGENT_NATS_SERVER).unwrap<NatsConnection>().close();
    const second = await startAgent({ ...env, AGENT_INSTANCE_ID: 'b2' }, ports());
    try {
      const events = await runEvents(nc, bus, r.message_id, 30000);
      const last = events.at(-1);
      if (last?.type !== 'done') {
        throw new Error(`run ended with ${JSON.stringify(last)}`);
      }
      expect(events.map((e) => e.seq)).toEqual(events.map((_e, i) => i + 1));
      expect(tokensOf(events)).toBe(last.content);
    } finally {
      await second.close();
    }
  });
});

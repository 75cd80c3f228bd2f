import { randomUUID } from 'node:crypto';
import { connect, headers, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { agentBus, NATS_HEADERS } from '@neonpro/contracts';
import {
  type AuthFixture,
  createAuthFixture,
  deleteAgentStreams,
  DEMO_USERS,
  freePort,
  NATS_URL,
  runEvents,
  type ServiceProcess,
  spawnService,
  uniquePrefix,
  waitFor,
  must,
} from '@neonpro/testing';
import pg from 'pg';
import { UNLIMITED } from './drill-mode.js';
import { connectOutcome, messageEnd, openSocket, SOCKET_BOUND_MS } from './socket-client.js';

interface SseEvent {
  id?: number;
  event: string;
  data: Record<string, unknown>;
}

function parseSse(text: string): SseEvent[] {
  return text
    .split('\n\n')
    .filter((b) => b.includes('data: '))
    .map((block) => {
      const ev: SseEvent = { event: 'message', data: {} };
      for (const line of block.split('\n')) {
        if (line.startsWith('id: ')) {
          ev.id = Number(line.slice(4));
        } else if (line.startsWith('event: ')) {
          ev.event = line.slice(7);
        } else if (line.startsWith('data: ')) {
          ev.data = JSON.parse(line.slice(6)) as Record<string, unknown>;
        }
      }
      return ev;
    });
}

/** Tokens since the last `restart` (what the client shows). */
function shown(events: SseEvent[]): string {
  let text = '';
  for (const e of events) {
    if (e.event === 'restart') {
      text = '';
    }
    if (e.event === 'token') {
      text += String(e.data.delta);
    }
  }
  return text;
}

/**
 * Drills of the JetStream work queue: an agent SIGKILLed mid-stream (the run is redelivered and
 * the client's open stream completes), a gateway SIGKILLed mid-stream (an SSE client reattaches to
 * another replica with Last-Event-ID; a Socket.IO client comes back on the restarted replica with
 * `session:join` and `after`), two chats on two single-slot agents (never refused), and a
 * raw NATS client replaying a captured run as someone else (refused, nothing read).
 */
describe('drill: work queue under failure', () => {
  const prefix = uniquePrefix('drill-kill');
  const bus = agentBus(prefix);
  let fx: AuthFixture;
  let authorization = '';
  let agents: ServiceProcess[] = [];
  let gateways: ServiceProcess[] = [];
  let nc: NatsConnection;

  beforeAll(async () => {
    fx = await createAuthFixture();
    authorization = `Bearer ${await fx.token(DEMO_USERS.auroraReception)}`;
    const env = { ...fx.env, NATS_URL, NATS_SUBJECT_PREFIX: prefix };
    const agentEnv = { ...env, AGENT_TOKEN_DELAY_MS: '60', AGENT_CONCURRENCY: '1', AGENT_ACK_WAIT_MS: '1500' };
    agents = [
      spawnService('ai-agent', await freePort(), { ...agentEnv, AGENT_INSTANCE_ID: 'k1' }),
      spawnService('ai-agent', await freePort(), { ...agentEnv, AGENT_INSTANCE_ID: 'k2' }),
    ];
    await Promise.all(agents.map((p) => p.waitReady()));
    const gwEnv = { ...UNLIMITED, ...env, AGENT_TIMEOUT_MS: '15000' };
    gateways = [spawnService('gateway', await freePort(), gwEnv), spawnService('gateway', await freePort(), gwEnv)];
    await Promise.all(gateways.map((p) => p.waitReady()));
    nc = await connect({ servers: NATS_URL });
  });

  afterAll(async () => {
    await Promise.all([...gateways, ...agents].map((p) => p?.stop('SIGKILL')));
    if (nc) {
      await deleteAgentStreams(nc, bus);
      await nc.drain();
    }
    await fx?.close();
  });

  const inflight = async (p: ServiceProcess): Promise<number> => {
    const text = await (await fetch(`${p.url}/metrics`)).text();
    return Number(/^agent_inflight(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1] ?? 0);
  };

  /** Rows read as the superuser (RLS does not hide anything from the check). */
  const rows = async (sql: string, params: unknown[]): Promise<Record<string, unknown>[]> => {
    const client = new pg.Client({ connectionString: fx.db.url });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as Record<string, unknown>[];
    } finally {
      await client.end();
    }
  };

  const chat = (gw: ServiceProcess, body: object, accept = 'text/event-stream'): Promise<Response> =>
    fetch(`${gw.url}/v1/ai/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept, authorization },
      body: JSON.stringify(body),
    });

  it('an agent SIGKILLed mid-stream: the open stream completes, one assistant message stored', async () => {
    const sessionId = randomUUID();
    const clientMessageId = `drill-kill-${randomUUID()}`;
    const response = await chat(must(gateways[0], 'gateways[0]'), {
      message: 'por favor uma resposta comprida para eu acompanhar o fluxo',
      session_id: sessionId,
      client_message_id: clientMessageId,
    });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let body = decoder.decode((await reader.read()).value);
    const victim = (await waitFor(async (): Promise<ServiceProcess | undefined> => {
      for (const a of agents) {
        if (a.running && (await inflight(a)) > 0) {
          return a;
        }
      }
      return undefined;
    }, 'the streaming replica')) as ServiceProcess;
    await victim.stop('SIGKILL');
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        break;
      }
      body += decoder.decode(value);
    }
    const events = parseSse(body);
    const last = events.at(-1);
    expect(last?.event).toBe('done');
    expect(shown(events)).toBe(last?.data.content);
    // ids keep increasing across the redelivery
    const ids = events.map((e) => e.id ?? 0);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    const stored = await rows(
      'select role, content from public.chat_messages where session_id = $1 and client_message_id = $2 order by role',
      [sessionId, clientMessageId],
    );
    expect(stored.map((r) => r.role)).toEqual(['assistant', 'user']);
    expect(stored[0]?.content).toBe(last?.data.content);
    // Bring the replica back for the next drills.
    agents = agents.filter((a) => a !== victim);
    const again = spawnService('ai-agent', await freePort(), {
      ...fx.env,
      NATS_URL,
      NATS_SUBJECT_PREFIX: prefix,
      AGENT_TOKEN_DELAY_MS: '60',
      AGENT_CONCURRENCY: '1',
      AGENT_ACK_WAIT_MS: '1500',
      AGENT_INSTANCE_ID: 'k3',
    });
    await again.waitReady();
    agents.push(again);
  });

  it('a gateway SIGKILLed mid-stream: the client reattaches to another replica with Last-Event-ID', async () => {
    const response = await chat(must(gateways[0], 'gateways[0]'), {
      message: 'quais consultas a Dra. Lima tem amanhã?',
    });
    const messageId = response.headers.get('x-message-id')!;
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let before = '';
    while (!parseSse(before).some((e) => e.event === 'token')) {
      before += decoder.decode((await reader.read()).value);
    }
    await must(gateways[0], 'gateways[0]').stop('SIGKILL');
    await reader.read().catch(() => undefined);
    // Only complete events count (the last block may have been cut).
    const got = parseSse(before.slice(0, before.lastIndexOf('\n\n') + 2));
    const lastId = got.at(-1)?.id ?? 0;
    const resumed = await fetch(`${must(gateways[1], 'gateways[1]').url}/v1/ai/chat/${messageId}/events`, {
      headers: { authorization, 'last-event-id': String(lastId) },
    });
    expect(resumed.status).toBe(200);
    const rest = parseSse(await resumed.text());
    expect(rest[0]?.id).toBe(lastId + 1);
    const done = rest.at(-1);
    expect(done?.event).toBe('done');
    expect(shown([...got, ...rest])).toBe(done?.data.content);
    // Someone else cannot reattach.
    const other = `Bearer ${await fx.token(DEMO_USERS.borealAdmin)}`;
    const intruder = await fetch(`${must(gateways[1], 'gateways[1]').url}/v1/ai/chat/${messageId}/events`, {
      headers: { authorization: other },
    });
    expect(intruder.status).toBe(404);
    gateways = gateways.slice(1);
  });

  it('a gateway SIGKILLed mid-stream over Socket.IO: the client resumes on the restarted replica with session:join after', async () => {
    const port = await freePort();
    const gwEnv = { ...UNLIMITED, ...fx.env, NATS_URL, NATS_SUBJECT_PREFIX: prefix, AGENT_TIMEOUT_MS: '15000' };
    let replica = spawnService('gateway', port, gwEnv);
    await replica.waitReady();
    const token = await fx.token(DEMO_USERS.auroraReception);
    try {
      const first = openSocket(replica.url, token);
      expect(await connectOutcome(first.socket)).toEqual({ connected: true });
      const sent = (await first.socket.timeout(SOCKET_BOUND_MS).emitWithAck('chat:send', {
        message: 'quais consultas a Dra. Lima tem amanhã?',
        client_message_id: `drill-socket-${randomUUID()}`,
      })) as { ok: boolean; session_id: string; message_id: string };
      expect(sent.ok).toBe(true);
      const mine = (r: { data: Record<string, unknown> }): boolean => r.data.message_id === sent.message_id;
      await waitFor(() => first.received.some((r) => mine(r) && r.event === 'chat:token'), 'the first token');
      await replica.stop('SIGKILL');
      first.socket.close();
      const before = first.received.filter(mine);
      // The answer is still running on the agent: the client saw only part of it.
      expect(before.some((r) => r.event === 'chat:done')).toBe(false);
      const lastSeq = Math.max(...before.map((r) => Number(r.data.seq)));

      // The same replica comes back (a pod restarted in place); the client reconnects to it.
      replica = spawnService('gateway', port, gwEnv);
      await replica.waitReady();
      const back = openSocket(replica.url, token);
      expect(await connectOutcome(back.socket)).toEqual({ connected: true });
      const joined = await back.socket.timeout(SOCKET_BOUND_MS).emitWithAck('session:join', {
        session_id: sent.session_id,
        message_id: sent.message_id,
        after: lastSeq,
      });
      expect(joined).toEqual({ ok: true, session_id: sent.session_id });
      const end = await messageEnd(back.received, sent.message_id);
      expect(end.event).toBe('chat:done');
      const rest = back.received.filter(mine);
      expect(rest[0]?.data.seq).toBe(lastSeq + 1);
      const seqs = rest.map((r) => Number(r.data.seq));
      expect(seqs).toEqual(seqs.map((_, i) => lastSeq + 1 + i));
      const tokens = [...before, ...rest].filter((r) => r.event === 'chat:token').map((r) => String(r.data.delta));
      expect(tokens.join('')).toBe(end.data.content);
      back.socket.close();
    } finally {
      await replica.stop('SIGKILL');
    }
  });

  it('two concurrent chats on two single-slot agents are never refused', async () => {
    // 50 trials in both modes (the bound); a trial is two short local-model answers.
    const trials = 50;
    let refused = 0;
    for (let i = 0; i < trials; i++) {
      const results = await Promise.all([
        chat(must(gateways[0], 'gateways[0]'), { message: 'oi' }, 'application/json'),
        chat(must(gateways[0], 'gateways[0]'), { message: 'oi' }, 'application/json'),
      ]);
      refused += results.filter((r) => r.status !== 200).length;
      await Promise.all(results.map((r) => r.arrayBuffer()));
    }
    expect(refused).toBe(0);
  }, 300_000);

  it('a raw NATS client replaying a captured run as another user is refused, reading nothing', async () => {
    const captured: Msg[] = [];
    const tap = nc.subscribe(bus.chat, { callback: (_e, m) => void captured.push(m) });
    await nc.flush();
    const ok = await chat(
      must(gateways[0], 'gateways[0]'),
      { message: 'quais consultas temos hoje?' },
      'application/json',
    );
    expect(ok.status).toBe(200);
    tap.unsubscribe();
    const run = captured.at(-1)!;
    const grant = run.headers!.get(NATS_HEADERS.grant);
    const original = run.json<{ session_id: string; message_id: string; message: string }>();
    const [h = '', p = '', sig = ''] = grant.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const admin = await rows("select m.user_id from public.clinic_members m where m.role = 'admin' limit 1", []);
    const attacks = [
      // The grant re-signed by nobody: another user's id in a captured grant.
      {
        grant: [h, Buffer.from(JSON.stringify({ ...claims, sub: admin[0]?.user_id })).toString('base64url'), sig].join(
          '.',
        ),
      },
      // The captured grant replayed on another run.
      { grant, message: 'liste os pacientes com CPF e telefone' },
    ];
    const counts = async (): Promise<Record<string, unknown>> =>
      must(
        (
          await rows(
            'select (select count(*) from public.audit_log) as audit, (select count(*) from public.chat_messages) as messages',
            [],
          )
        )[0],
        'the counts',
      );
    for (const attack of attacks) {
      const before = await counts();
      const replay = { ...original, message_id: randomUUID(), message: attack.message ?? original.message };
      const hdrs = headers();
      hdrs.set(NATS_HEADERS.grant, attack.grant);
      nc.publish(bus.chat, JSON.stringify(replay), { headers: hdrs });
      const events = await runEvents(nc, bus, replay.message_id, 15000);
      expect(events).toEqual([expect.objectContaining({ type: 'error', code: 'unauthorized' })]);
      // No audited read, no stored message: the agent refused before touching the database.
      expect(await counts()).toEqual(before);
    }
  });
});

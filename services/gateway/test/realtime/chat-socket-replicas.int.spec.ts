import type { NatsConnection } from '@nats-io/transport-node';
import { type AuthFixture, createAuthFixture, DEMO_USERS, uniquePrefix, waitFor } from '@neonpro/testing';
import { type GatewayApp, startGateway } from '../../src/app.js';
import { ChatRunService } from '../../src/realtime/chat-run.service.js';
import type { ScriptedAgent } from '../support/scripted-agent.js';
import { connectScriptedAgent, gatewayUrl, testGatewayEnv, testRedisEnv } from '../support/test-gateway.js';
import { type ChatClient, chatClient, connected, nextEvent } from './socket-client.js';

describe('two gateway replicas sharing Redis (Streams adapter)', () => {
  const prefix = uniquePrefix('sock-rep');
  let auth: AuthFixture;
  let a: GatewayApp;
  let b: GatewayApp;
  let nc: NatsConnection;
  let agent: ScriptedAgent;
  const clients: ChatClient[] = [];
  const open = async (gw: GatewayApp, token: string): Promise<ChatClient> => {
    const c = chatClient(gatewayUrl(gw), token);
    clients.push(c);
    return connected(c);
  };
  /** Messages held open until the test releases them. */
  const held = new Map<string, (last: boolean) => void>();

  beforeAll(async () => {
    auth = await createAuthFixture();
    const env = testGatewayEnv(prefix, { ...auth.env, ...testRedisEnv(prefix) });
    [a, b] = await Promise.all([startGateway(env), startGateway(env)]);
    ({ nc, agent } = await connectScriptedAgent(prefix));
    agent.behaviour = (req, _msg, reply) => {
      reply({ type: 'token', delta: 'um ' });
      held.set(req.message_id, (last) => {
        reply({ type: 'token', delta: 'dois' });
        if (last) {
          reply({ type: 'done', message_id: req.message_id, content: 'um dois' }, true);
        }
      });
      return [];
    };
    await nc.flush();
  });

  afterAll(async () => {
    for (const c of clients) {
      c.close();
    }
    await agent?.destroy();
    await Promise.all([a?.close(), b?.close()]);
    await nc?.drain();
    await auth?.close();
  });

  /** Both replicas read the shared stream: each one sees the other's sockets. */
  async function clusterSees(n: number): Promise<void> {
    for (const gw of [a, b]) {
      const nsp = gw.app.get(ChatRunService).namespace!;
      await waitFor(async () => (await nsp.fetchSockets()).length === n, `replica sees ${n} sockets`);
    }
  }

  it('a client on replica A gets the stream of a message sent through replica B', async () => {
    const token = await auth.token(DEMO_USERS.auroraLima);
    const onA = await open(a, token);
    const onB = await open(b, token);
    await clusterSees(2);

    const first = await onB.send({ message: 'oi', client_message_id: 'r-1' });
    held.get(first.message_id)!(true);
    await onB.untilEnd(first.message_id);

    // Ownership of the new session (no row yet) is known to replica A through Redis.
    expect(await onA.ack('session:join', { session_id: first.session_id })).toEqual({
      ok: true,
      session_id: first.session_id,
    });
    const intruder = await open(a, await auth.token(DEMO_USERS.borealAdmin));
    expect(await intruder.ack('session:join', { session_id: first.session_id })).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    });

    const second = await onB.send({
      message: 'e amanhã?',
      session_id: first.session_id,
      client_message_id: 'r-2',
    });
    held.get(second.message_id)!(true);
    const seen = await onA.untilEnd(second.message_id);
    expect(seen.map((r) => [r.event, r.event === 'chat:done' ? r.data.content : r.data.seq])).toEqual([
      ['chat:token', 1],
      ['chat:token', 2],
      ['chat:done', 'um dois'],
    ]);

    // A cancel taken by replica A stops the run relayed by replica B.
    const third = await onB.send({
      message: 'longo',
      session_id: first.session_id,
      client_message_id: 'r-3',
    });
    await waitFor(() => onA.received.some((r) => r.data.message_id === third.message_id), 'first token on A');
    expect(await onA.ack('chat:cancel', { message_id: third.message_id })).toMatchObject({ ok: true });
    const ended = await onB.untilEnd(third.message_id);
    expect(ended.at(-1)).toMatchObject({ event: 'chat:error', data: { code: 'cancelled' } });
    await waitFor(() => agent.cancels.includes(third.message_id), 'agent.cancel published');
  });

  it('recovers a short disconnect: the events missed meanwhile are delivered, rooms are kept', async () => {
    const token = await auth.token(DEMO_USERS.auroraAdmin);
    const flaky = await open(a, token);
    const sender = await open(b, token);
    await clusterSees(clients.filter((c) => c.socket.connected).length);
    // Recovery resumes from the last event offset a client received, so it chats once first.
    const first = await flaky.send({ message: 'oi', client_message_id: 'rec-1' });
    held.get(first.message_id)!(true);
    await flaky.untilEnd(first.message_id);
    expect(await sender.ack('session:join', { session_id: first.session_id })).toMatchObject({ ok: true });

    // The transport drops (not a client-initiated disconnect), as on a network change.
    const gone = nextEvent<string>(flaky.socket, 'disconnect');
    flaky.socket.io.engine.close();
    await gone;

    const missed = await sender.send({
      message: 'enquanto offline',
      session_id: first.session_id,
      client_message_id: 'rec-2',
    });
    held.get(missed.message_id)!(true);
    await sender.untilEnd(missed.message_id);
    expect(flaky.received.filter((r) => r.data.message_id === missed.message_id)).toEqual([]);

    flaky.socket.connect();
    await nextEvent(flaky.socket, 'connect');
    expect(flaky.socket.recovered).toBe(true);
    const caughtUp = await flaky.untilEnd(missed.message_id);
    expect(caughtUp.map((r) => r.event)).toEqual(['chat:token', 'chat:token', 'chat:done']);

    // Still in the session's room after recovery: the next message streams live.
    const live = await sender.send({
      message: 'de novo',
      session_id: first.session_id,
      client_message_id: 'rec-3',
    });
    held.get(live.message_id)!(true);
    expect((await flaky.untilEnd(live.message_id)).at(-1)).toMatchObject({ event: 'chat:done' });
  });
});

import { createNeonProClient, type NeonProClient, NeonProError, type ChatStreamEvent } from '@neonpro/client';
import {
  type AuthFixture,
  createAuthFixture,
  DEMO_PASSWORD,
  DEMO_USERS,
  freePort,
  NATS_URL,
  type ServiceProcess,
  spawnService,
  uniquePrefix,
  deletePrefixStreams,
} from '@neonpro/testing';

/**
 * @neonpro/client against the built gateway and a built agent (real Postgres data): login and
 * refresh, typed REST calls and their problems, the SSE chat and the Socket.IO chat.
 */
describe('E2E: @neonpro/client against the built processes', () => {
  const prefix = uniquePrefix('e2e-client');
  let gateway: ServiceProcess;
  let agent: ServiceProcess;
  let fx: AuthFixture;
  let neon: NeonProClient;

  beforeAll(async () => {
    fx = await createAuthFixture();
    const common = { ...fx.env, NATS_URL, NATS_SUBJECT_PREFIX: prefix };
    agent = spawnService('ai-agent', await freePort(), {
      ...common,
      AGENT_INSTANCE_ID: 'e2e-client',
      DB_POOL_MAX: '4',
    });
    gateway = spawnService('gateway', await freePort(), { ...common, RATE_LIMIT_AI_LIMIT: '1000' });
    await Promise.all([gateway, agent].map((p) => p.waitReady()));
    neon = createNeonProClient({ baseUrl: gateway.url });
  });

  afterAll(async () => {
    await Promise.all([gateway, agent].filter(Boolean).map((p) => p.stop('SIGKILL')));
    await deletePrefixStreams(prefix);
    await fx?.close();
  });

  it('logs in (a wrong password is a NeonProError with its code), refreshes, and calls typed routes', async () => {
    const wrong = await neon.login(DEMO_USERS.auroraAdmin, 'not-the-password').catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(NeonProError);
    expect(wrong).toMatchObject({ status: 401, code: 'invalid_credentials' });

    const session = await neon.login(DEMO_USERS.auroraAdmin, DEMO_PASSWORD);
    expect(session.user.email).toBe(DEMO_USERS.auroraAdmin);
    const refreshed = await neon.refresh();
    expect(refreshed.refresh_token).not.toBe(session.refresh_token);
    expect(neon.session).toBe(refreshed);

    const me = await neon.api.GET('/v1/me');
    expect(me.data).toMatchObject({ email: DEMO_USERS.auroraAdmin, role: 'admin' });
    const patients = await neon.api.GET('/v1/patients', { params: { query: { limit: 3 } } });
    expect(patients.data?.data).toHaveLength(3);
    const missing = await neon.api.GET('/v1/patients/{id}', {
      params: { path: { id: '00000000-0000-4000-8000-000000000000' } },
    });
    expect(missing.response.status).toBe(404);
    expect(missing.error).toMatchObject({ code: 'not_found' });
  });

  it('streams a chat answer over SSE: tools, tokens, then done with the whole text', async () => {
    if (!neon.session) {
      await neon.login(DEMO_USERS.auroraAdmin, DEMO_PASSWORD);
    }
    const events: ChatStreamEvent[] = [];
    for await (const e of neon.streamChat({ message: 'quais consultas a Dra. Lima tem amanhã?' })) {
      events.push(e);
    }
    const done = events.at(-1);
    expect(done?.type).toBe('done');
    const text = events.map((e) => (e.type === 'token' ? e.delta : '')).join('');
    expect(done?.type === 'done' && done.content).toBe(text);
    expect(events.filter((e) => e.type === 'tool').map((e) => e.type === 'tool' && e.status)).toEqual([
      'started',
      'succeeded',
    ]);
  });

  it('chats over Socket.IO: the ack, then chat:done in the session room', async () => {
    if (!neon.session) {
      await neon.login(DEMO_USERS.auroraAdmin, DEMO_PASSWORD);
    }
    const chat = await neon.realtime({ socket: { reconnection: false } }).connected();
    try {
      const done = new Promise<{ message_id: string; content: string }>((resolve) =>
        chat.socket.on('chat:done', resolve),
      );
      const tokens: string[] = [];
      chat.socket.on('chat:token', (e) => tokens.push(e.delta));
      const ack = await chat.send({ message: 'oi, o que você sabe fazer?', client_message_id: 'e2e-client-1' });
      const answer = await done;
      expect(answer.message_id).toBe(ack.message_id);
      expect(tokens.join('')).toBe(answer.content);
      const refused = await chat.send({ message: '', client_message_id: 'e2e-client-2' }).catch((e: unknown) => e);
      expect(refused).toMatchObject({ code: 'invalid_payload' });
    } finally {
      chat.close();
    }
  });
});

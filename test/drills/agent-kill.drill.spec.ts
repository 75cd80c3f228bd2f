import {
  freePort,
  NATS_URL,
  type ServiceProcess,
  spawnService,
  uniquePrefix,
  waitFor,
  type AuthFixture,
  createAuthFixture,
  DEMO_USERS,
} from '@neonpro/testing';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { UNLIMITED } from './drill-mode.js';

/** Drill: an agent is killed with SIGKILL while it streams an answer. */
describe('drill: agent killed mid-stream', () => {
  const prefix = uniquePrefix('drill-kill');
  let gateway: ServiceProcess;
  let fx: AuthFixture;
  let authorization = '';
  let agents: ServiceProcess[];

  beforeAll(async () => {
    fx = await createAuthFixture();
    authorization = `Bearer ${await fx.token(DEMO_USERS.auroraReception)}`;
    const env = { ...fx.env, NATS_URL, NATS_SUBJECT_PREFIX: prefix, AGENT_TOKEN_DELAY_MS: '60' };
    agents = [
      spawnService('ai-agent', await freePort(), { ...env, AGENT_INSTANCE_ID: 'k1' }),
      spawnService('ai-agent', await freePort(), { ...env, AGENT_INSTANCE_ID: 'k2' }),
    ];
    gateway = spawnService('gateway', await freePort(), { ...UNLIMITED, ...env, AGENT_TIMEOUT_MS: '1500' });
    await Promise.all([gateway, ...agents].map((p) => p.waitReady()));
  });

  afterAll(async () => {
    await Promise.all([gateway, ...agents].map((p) => p?.stop('SIGKILL')));
    await fx?.close();
  });

  const inflight = async (p: ServiceProcess): Promise<number> => {
    const text = await (await fetch(`${p.url}/metrics`)).text();
    return Number(/^agent_inflight(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1] ?? 0);
  };

  /** Rows of one turn, read as the superuser (RLS does not hide anything from the check). */
  const turnRows = async (sessionId: string, clientMessageId: string): Promise<{ role: string; content: string }[]> => {
    const client = new pg.Client({ connectionString: fx.db.url });
    await client.connect();
    try {
      const r = await client.query<{ role: string; content: string }>(
        'select role, content from public.chat_messages where session_id = $1 and client_message_id = $2 order by role',
        [sessionId, clientMessageId],
      );
      return r.rows;
    } finally {
      await client.end();
    }
  };

  // The stream dies before `done` (which would carry the session id), so the client picks the
  // session id itself: the retry must name the same session and client_message_id.
  const sessionId = randomUUID();
  const clientMessageId = `drill-kill-${randomUUID()}`;
  const turn = { message: 'por favor uma resposta comprida para eu acompanhar o fluxo', session_id: sessionId };

  it('the client gets an error event, the gateway survives and the other replica keeps serving', async () => {
    const response = await fetch(`${gateway.url}/v1/ai/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization },
      body: JSON.stringify({ ...turn, client_message_id: clientMessageId }),
    });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let body = decoder.decode((await reader.read()).value);
    const victim = (await waitFor(async (): Promise<ServiceProcess | undefined> => {
      for (const a of agents) if ((await inflight(a)) > 0) return a;
      return undefined;
    }, 'the streaming replica')) as ServiceProcess;
    await victim.stop('SIGKILL');
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      body += decoder.decode(value);
    }
    expect(body).toContain('event: token');
    expect(body).toMatch(/event: error\ndata: \{"code":"agent_timeout"/);
    expect(body).not.toContain('event: done');

    expect(gateway.running).toBe(true);
    const next = await fetch(`${gateway.url}/v1/ai/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify({ message: 'oi' }),
    });
    expect(next.status).toBe(200);
  });

  it('the client retries the same message and gets the answer; the turn is persisted exactly once', async () => {
    // Nothing of the turn's answer was stored by the killed replica.
    expect((await turnRows(sessionId, clientMessageId)).map((r) => r.role)).toEqual(['user']);

    const send = async (): Promise<{ status: number; body: { session_id?: string; content?: string } }> => {
      const r = await fetch(`${gateway.url}/v1/ai/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization },
        body: JSON.stringify({ ...turn, client_message_id: clientMessageId }),
        signal: AbortSignal.timeout(10_000),
      });
      return { status: r.status, body: (await r.json()) as { session_id?: string; content?: string } };
    };
    const retried = await send();
    expect(retried.status).toBe(200);
    expect(retried.body.session_id).toBe(sessionId);
    expect(retried.body.content).toEqual(expect.any(String));

    const rows = await turnRows(sessionId, clientMessageId);
    expect(rows.map((r) => r.role)).toEqual(['assistant', 'user']);
    expect(rows.find((r) => r.role === 'assistant')?.content).toBe(retried.body.content);

    // A second retry (e.g. the client never saw the first answer) replays it: still one row each.
    const again = await send();
    expect(again.status).toBe(200);
    expect(again.body.content).toBe(retried.body.content);
    expect((await turnRows(sessionId, clientMessageId)).map((r) => r.role)).toEqual(['assistant', 'user']);
    expect(gateway.running).toBe(true);
  });
});

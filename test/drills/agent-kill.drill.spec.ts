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

  it('the client gets an error event, the gateway survives and the other replica keeps serving', async () => {
    const response = await fetch(`${gateway.url}/v1/ai/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization },
      body: JSON.stringify({ message: 'por favor uma resposta comprida para eu acompanhar o fluxo' }),
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
});

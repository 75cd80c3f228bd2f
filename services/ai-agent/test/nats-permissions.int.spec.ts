// Least-privilege NATS users (docs/nats-permissions.conf, as documented in the README) on a
// private `nats-server -js`: anonymous clients are refused, and the agent and the gateway can do
// their part with the fixed production names and nothing more.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { agentBus, agentWire } from '@neonpro/contracts';
import {
  chatRequest,
  type PrivateServer,
  provisionAgentStreams,
  queueRun,
  REPO_ROOT,
  runEvents,
  startPrivateNats,
} from '@neonpro/testing';
import { type AgentApp, startAgent } from '../src/app.js';
import { buildFixture, claimsFor } from './support/clinic-fixtures.js';
import { InMemoryClinicData } from './support/in-memory-clinic-data.js';
import { InMemoryConversations } from './support/in-memory-conversations.js';

const PASSWORDS = { ADMIN_PASSWORD: 'adm-pw-1', GATEWAY_PASSWORD: 'gw-pw-1', AGENT_PASSWORD: 'ag-pw-1' };

describe('NATS least-privilege users (private nats-server)', () => {
  const fixture = buildFixture();
  const caller = claimsFor(fixture.ids.aurora);
  const bus = agentBus('');
  let nats: PrivateServer;
  let agent: AgentApp;
  let gateway: NatsConnection;

  beforeAll(async () => {
    let conf = readFileSync(join(REPO_ROOT, 'docs/nats-permissions.conf'), 'utf8');
    for (const [k, v] of Object.entries(PASSWORDS)) {
      conf = conf.replaceAll(`$${k}`, v);
    }
    nats = await startPrivateNats(conf);
    const admin = await connect({ servers: nats.url, user: 'admin', pass: PASSWORDS.ADMIN_PASSWORD });
    await provisionAgentStreams(admin, bus, 5000);
    await admin.close();
    agent = await startAgent(
      {
        NATS_URL: nats.url,
        NATS_USER: 'agent',
        NATS_PASSWORD: PASSWORDS.AGENT_PASSWORD,
        NATS_PROVISION_STREAMS: 'false',
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'silent',
      },
      {
        clinicData: new InMemoryClinicData([fixture.aurora, fixture.beta]),
        conversations: new InMemoryConversations(),
        callers: {
          membership: (id) =>
            Promise.resolve(id === caller.sub ? { clinic_id: caller.clinic_id, role: caller.role } : undefined),
        },
      },
    );
    gateway = await connect({ servers: nats.url, user: 'gateway', pass: PASSWORDS.GATEWAY_PASSWORD });
  });

  afterAll(async () => {
    await gateway?.close();
    await agent?.close();
    await nats?.dispose();
  });

  it('refuses an anonymous client and a wrong password', async () => {
    await expect(connect({ servers: nats.url, reconnect: false })).rejects.toThrow(/authorization/i);
    await expect(connect({ servers: nats.url, user: 'agent', pass: 'wrong', reconnect: false })).rejects.toThrow(
      /authorization/i,
    );
  });

  it('runs a chat end to end with the gateway and agent users only', async () => {
    const presence = await gateway.request(bus.presence, undefined, { timeout: 2000 });
    expect(agentWire.decodePresence(presence.data).ok).toBe(true);
    const r = chatRequest('quais consultas a Dra. Lima tem amanhã?');
    await queueRun(gateway, bus, r, { userId: caller.sub });
    const events = await runEvents(gateway, bus, r.message_id);
    expect(events.at(-1)?.type).toBe('done');
  });

  it('does not let an agent queue runs (it may only answer them)', async () => {
    const asAgent = await connect({ servers: nats.url, user: 'agent', pass: PASSWORDS.AGENT_PASSWORD });
    try {
      const r = chatRequest('oi');
      await expect(
        jetstream(asAgent, { timeout: 1500 }).publish(bus.chat, agentWire.encodeRunRequest(r)),
      ).rejects.toThrow();
    } finally {
      await asAgent.close();
    }
  });
});

import { connect, type NatsConnection } from '@nats-io/transport-node';
import { type AuthFixture, type AuthFixtureOptions, createAuthFixture, NATS_URL, uniquePrefix } from '@neonpro/testing';
import { type GatewayApp, startGateway } from '../../src/app.js';
import { ScriptedAgent } from './scripted-agent.js';

/**
 * The settings every gateway under test shares: real NATS under the test's own subject prefix, an
 * ephemeral loopback port, no logs. `env` adds the test's own (database, auth, limits) and wins.
 */
export function testGatewayEnv(prefix: string, env: Record<string, string> = {}): Record<string, string> {
  return { NATS_URL, NATS_SUBJECT_PREFIX: prefix, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', ...env };
}

/** The HTTP origin of a gateway started on the loopback interface. */
export const gatewayUrl = (gw: GatewayApp): string => `http://127.0.0.1:${gw.port}`;

/** A NATS connection and a scripted agent on it, its subscriptions flushed so the gateway's first run finds them. */
export async function connectScriptedAgent(prefix: string): Promise<{ nc: NatsConnection; agent: ScriptedAgent }> {
  const nc = await connect({ servers: NATS_URL });
  const agent = await ScriptedAgent.start(nc, prefix);
  await nc.flush();
  return { nc, agent };
}

/** The shared Redis, under the test's own key prefixes: rate limits and the Socket.IO adapter's streams. */
export function testRedisEnv(prefix: string): Record<string, string> {
  return {
    REDIS_URL: 'redis://127.0.0.1:6379',
    RATE_LIMIT_KEY_PREFIX: `${prefix}:rl:`,
    SOCKET_REDIS_PREFIX: `${prefix}:sio:`,
  };
}

/** What most gateway integration tests start and stop together. */
export interface GatewayHarness {
  /** The test's own NATS subject prefix (and Redis key prefix, with `redis`). */
  prefix: string;
  auth: AuthFixture;
  gw: GatewayApp;
  /** The gateway's HTTP origin. */
  base: string;
  nc: NatsConnection;
  agent: ScriptedAgent;
  /** Stops the agent (deleting its streams), the gateway, NATS and the fixture, in that order. */
  close(): Promise<void>;
}

export interface GatewayHarnessOptions {
  /** The test's own settings on top of `testGatewayEnv` and the fixture's database and auth. */
  env?: Record<string, string>;
  /** Rate limits and sockets on the shared Redis (`testRedisEnv`) instead of in memory. */
  redis?: boolean;
  auth?: AuthFixtureOptions;
}

/** A seeded database and auth emulator, a scripted agent on real NATS, and a gateway on all of them. */
export async function startGatewayHarness(label: string, opts: GatewayHarnessOptions = {}): Promise<GatewayHarness> {
  const prefix = uniquePrefix(label);
  const auth = await createAuthFixture(opts.auth);
  const { nc, agent } = await connectScriptedAgent(prefix);
  const gw = await startGateway(
    testGatewayEnv(prefix, { ...auth.env, ...(opts.redis ? testRedisEnv(prefix) : {}), ...opts.env }),
  );
  return {
    prefix,
    auth,
    gw,
    base: gatewayUrl(gw),
    nc,
    agent,
    async close() {
      await agent.destroy();
      await gw.close();
      await nc.drain();
      await auth.close();
    },
  };
}

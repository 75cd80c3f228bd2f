// A benchmark stack: a seeded database, the auth emulator and tokens, then services on demand.
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { agentBus, removeAgentStreams } from '../../dist/libs/contracts/src/index.js';
import { freePort, Proc, ROOT, startService, waitReady } from './procs.mjs';

const ADMIN_URL = process.env.BENCH_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export async function createBenchStack() {
  const name = `neonpro_bench_${Date.now().toString(36)}`;
  const dbUrl = new URL(ADMIN_URL);
  dbUrl.pathname = `/${name}`;
  const databaseUrl = dbUrl.toString();
  // Migrations, seed, auth emulator and queries as the owner; services as neonpro_authenticator.
  const serviceUrl = new URL(databaseUrl);
  serviceUrl.username = 'neonpro_authenticator';
  serviceUrl.password = 'neonpro-authenticator-dev';
  const serviceDatabaseUrl = serviceUrl.toString();
  const env = { ...process.env, DATABASE_MIGRATION_URL: databaseUrl };
  for (const cli of ['migrate', 'seed']) {
    const r = spawnSync(process.execPath, [join(ROOT, `dist/libs/database/src/cli/${cli}.js`)], {
      env,
      stdio: 'ignore',
    });
    if (r.status !== 0) {
      throw new Error(`db ${cli} failed (run npm run build first)`);
    }
  }
  const authPort = await freePort();
  const supabaseUrl = `http://127.0.0.1:${authPort}`;
  const { spawn } = await import('node:child_process');
  const emu = new Proc(
    'auth',
    spawn(process.execPath, [join(ROOT, 'tools/auth-emulator/main.mjs')], {
      env: {
        ...process.env,
        SUPABASE_URL: supabaseUrl,
        DATABASE_URL: databaseUrl,
        AUTH_EMULATOR_KEY_FILE: join(ROOT, '.cache/bench-es256.jwk.json'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  await waitReady(`${supabaseUrl}/auth/v1/.well-known/jwks.json`);

  const started = [emu];
  /** NATS server → subject prefixes whose agent streams the stack's services created. */
  const buses = new Map();
  const grantKeys = generateKeyPairSync('ed25519');
  const stack = {
    databaseUrl,
    serviceDatabaseUrl,
    supabaseUrl,
    // A fresh grant key pair per stack, as in production (which refuses the dev key).
    grantPrivateKey: JSON.stringify(grantKeys.privateKey.export({ format: 'jwk' })),
    baseEnv: {
      DATABASE_URL: serviceDatabaseUrl,
      SUPABASE_URL: supabaseUrl,
      AGENT_GRANT_PRIVATE_KEY: JSON.stringify(grantKeys.privateKey.export({ format: 'jwk' })),
      AGENT_GRANT_PUBLIC_KEY: JSON.stringify(grantKeys.publicKey.export({ format: 'jwk' })),
    },
    async token(email = 'admin@aurora.demo') {
      const r = await fetch(`${supabaseUrl}/auth/v1/token?grant_type=password`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', apikey: 'bench' },
        body: JSON.stringify({ email, password: 'neonpro-demo' }),
      });
      return (await r.json()).access_token;
    },
    /** Bearer header for HTTP, and the user id a raw JetStream client signs run grants for. */
    async caller(email = 'admin@aurora.demo') {
      const token = await stack.token(email);
      const raw = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
      return { token, userId: raw.sub, headers: { authorization: `Bearer ${token}` } };
    },
    async query(sql, args = []) {
      const c = new pg.Client({ connectionString: databaseUrl });
      await c.connect();
      try {
        return (await c.query(sql, args)).rows;
      } finally {
        await c.end();
      }
    },
    /**
     * Planner statistics for what a warm-up wrote, as autovacuum would gather them: its naptime is
     * a minute and a bench phase is seconds, so a fresh database would otherwise be measured with
     * the statistics of its empty chat tables, and plans chosen for them (docs/performance.md,
     * "Fifth pass").
     */
    async analyze() {
      await stack.query('analyze');
    },
    /**
     * An agent and a gateway on their own NATS subject prefix, with the chat scenarios' settings
     * (agent: warn logs, 64 slots; gateway: nothing refused), plus what each caller adds.
     */
    async startChat(natsUrl, { agentEnv = {}, gatewayEnv = {} } = {}) {
      const prefix = `bench-${randomBytes(4).toString('hex')}`;
      const common = { NATS_URL: natsUrl, NATS_SUBJECT_PREFIX: prefix };
      const agent = await stack.start('agent', 'dist/services/ai-agent/src/main.js', {
        ...common,
        LOG_LEVEL: 'warn',
        AGENT_CONCURRENCY: '64',
        ...agentEnv,
      });
      const gateway = await stack.start('gateway', 'dist/services/gateway/src/main.js', {
        ...NO_REFUSALS,
        ...common,
        ...gatewayEnv,
      });
      return { prefix, agent, gateway };
    },
    async start(name, entry, env) {
      const port = await freePort();
      const full = { ...stack.baseEnv, ...env, PORT: String(port) };
      if (full.NATS_URL && full.NATS_SUBJECT_PREFIX) {
        buses.set(full.NATS_URL, (buses.get(full.NATS_URL) ?? new Set()).add(full.NATS_SUBJECT_PREFIX));
      }
      const p = startService(name, entry, full);
      started.push(p);
      await waitReady(`http://127.0.0.1:${port}/health/ready`).catch((err) => {
        throw new Error(`${name} not ready: ${err.message}\n${p.out.slice(-2000)}`);
      });
      p.url = `http://127.0.0.1:${port}`;
      return p;
    },
    async stop(p) {
      await p.stop();
      started.splice(started.indexOf(p), 1);
    },
    async close() {
      await Promise.all(started.map((p) => p.stop()));
      await deleteStreams(buses);
      const admin = new pg.Client({ connectionString: ADMIN_URL });
      await admin.connect();
      await admin.query(`drop database if exists "${name}" with (force)`);
      await admin.end();
    },
  };
  return stack;
}

/** Limits high enough that the limiter counts but never refuses during a run. */
export const NO_REFUSALS = {
  RATE_LIMIT_HEALTHCARE_LIMIT: '100000000',
  RATE_LIMIT_AI_LIMIT: '100000000',
  RATE_LIMIT_AI_CLINIC_LIMIT: '100000000',
  RATE_LIMIT_DEFAULT_LIMIT: '100000000',
  RATE_LIMIT_AUTH_LIMIT: '100000000',
  AGENT_QUEUE_MAX_PENDING: '1000000',
  LOG_LEVEL: 'warn',
};

/**
 * Deletes the agent streams the stack's services created. Left behind, they stay on the shared
 * NATS server, and their messages expire 15 minutes later, during whatever runs then: under
 * scenario 2's load nats-server took 14.9 % of the machine while old messages expired, against
 * 10.8 % with none (docs/performance.md, "Ninth pass"). Best effort: a private server the caller
 * already stopped has nothing left to delete.
 */
async function deleteStreams(buses) {
  for (const [servers, prefixes] of buses) {
    const nc = await connect({ servers, timeout: 2000 }).catch(() => undefined);
    if (!nc) {
      continue;
    }
    try {
      const jsm = await jetstreamManager(nc);
      for (const prefix of prefixes) {
        await removeAgentStreams(jsm, agentBus(prefix));
      }
    } catch {
      // JetStream unavailable: nothing to clean.
    } finally {
      await nc.close();
    }
  }
}

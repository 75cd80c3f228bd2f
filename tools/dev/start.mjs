#!/usr/bin/env node
// `npm start`: the whole system locally, in the foreground. Dev-only: never part of an image.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmbeddedPostgres } from '../lib/embedded-postgres.mjs';
import { ProcessGroup } from '../lib/process-group.mjs';
import { serviceNodeFlags } from '../lib/node-flags.mjs';
import { busyPorts, freePort } from '../lib/ports.mjs';
import { canConnect, hostPort, SERVICES, serviceDatabaseUrl } from '../lib/services.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
process.chdir(root);

const env = {
  NATS_URL: process.env.NATS_URL ?? SERVICES.nats.url,
  GATEWAY_REPLICAS: Number(process.env.GATEWAY_REPLICAS ?? 1),
  AGENT_REPLICAS: Number(process.env.AGENT_REPLICAS ?? 2),
  AGENT_TOKEN_DELAY_MS: process.env.AGENT_TOKEN_DELAY_MS ?? '25',
  // The owner (migrations, seed, auth emulator); the services log in as neonpro_authenticator.
  DATABASE_URL: process.env.DATABASE_MIGRATION_URL ?? process.env.DATABASE_URL,
  // Where an existing PostgreSQL is looked for when DATABASE_URL is unset (tests point it at a closed port).
  PG_PROBE: process.env.START_PG_PROBE ?? '127.0.0.1:5432',
  EMBEDDED_PG_DIR: process.env.EMBEDDED_PG_DIR ?? join(root, '.cache', 'embedded-postgres'),
  GATEWAY_PORT: Number(process.env.GATEWAY_PORT ?? 3000),
  AGENT_PORT: Number(process.env.AGENT_PORT ?? 3001),
  SUPABASE_URL: process.env.SUPABASE_URL ?? 'http://127.0.0.1:54321',
  DEMO_PASSWORD: process.env.DEMO_PASSWORD || 'neonpro-demo',
};
// A local SUPABASE_URL means "no real Supabase project": run the dev auth emulator there.
const supabaseHost = new URL(env.SUPABASE_URL).hostname;
const useAuthEmulator = ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(supabaseHost);

function step(msg) {
  console.log(`\x1b[36m▸ ${msg}\x1b[0m`);
}

function fail(msg) {
  console.error(`\x1b[31m✗ ${msg}\x1b[0m`);
  process.exit(1);
}

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function run(cmd, args, extraEnv = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...extraEnv } });
  if (r.status !== 0) {
    fail(`${cmd} ${args.join(' ')} failed`);
  }
}

// Once servers run, a failed step stops them before exiting.
async function runOrStop(cmd, args, extraEnv = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...extraEnv } });
  if (r.status !== 0) {
    await group.stopAll();
    fail(`${cmd} ${args.join(' ')} failed`);
  }
}
const migrate = (dbEnv) => runOrStop(process.execPath, ['dist/libs/database/src/cli/migrate.js'], dbEnv);
const seed = (dbEnv) => runOrStop(process.execPath, ['dist/libs/database/src/cli/seed.js'], dbEnv);

async function waitHttp(url, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).status === 200) {
        return true;
      }
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

const group = new ProcessGroup();
let natsDir;
const shutdown = async (signal) => {
  console.log(`\n${signal}: stopping the stack…`);
  await group.stopAll();
  if (natsDir) {
    rmSync(natsDir, { recursive: true, force: true });
  }
  process.exit(0);
};
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));

if (!existsSync('node_modules/.package-lock.json')) {
  step('installing dependencies (npm ci)');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}
if (process.env.SKIP_BUILD === '1') {
  step('using the existing build (SKIP_BUILD=1)');
} else {
  step('building');
  run('npm', ['run', '--silent', 'build']);
}

// NATS: use the one at NATS_URL, or start a throwaway JetStream server if we can.
const natsAddr = hostPort(env.NATS_URL);
if (await canConnect(natsAddr)) {
  step(`NATS: using ${env.NATS_URL}`);
} else {
  const bin = which('nats-server') ?? (existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : undefined);
  if (!bin) {
    fail(
      `nothing listens on ${natsAddr.host}:${natsAddr.port} and nats-server is not installed. ${SERVICES.nats.hint}`,
    );
  }
  natsDir = mkdtempSync(join(tmpdir(), 'neonpro-nats-'));
  step(`NATS: starting ${bin} with JetStream in ${natsDir}`);
  group.start('nats', bin, ['-js', '-a', natsAddr.host, '-p', String(natsAddr.port), '-sd', natsDir], { quiet: true });
  const deadline = Date.now() + 10000;
  while (!(await canConnect(natsAddr))) {
    if (Date.now() > deadline) {
      fail('nats-server did not start');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Redis: shared rate-limit counters for every gateway replica, when one answers.
let redisUrl = process.env.REDIS_URL;
if (redisUrl) {
  step(`Redis: using ${redisUrl}`);
} else if (await canConnect(hostPort(SERVICES.redis.url))) {
  redisUrl = SERVICES.redis.url;
  step(`Redis: using ${redisUrl} (rate-limit counters shared by the gateways)`);
} else {
  step(`Redis: none at ${SERVICES.redis.url}; each gateway counts rate limits in memory`);
}

// Postgres: DATABASE_URL, else a server on 127.0.0.1:5432, else an embedded one (npm binaries, data
// under .cache/). The database is created, migrated and seeded (idempotent) in every case.
let embeddedPg;
if (env.DATABASE_URL) {
  const pgAddr = hostPort(env.DATABASE_URL);
  if (!(await canConnect(pgAddr))) {
    fail(`PostgreSQL is not reachable at ${pgAddr.host}:${pgAddr.port} (DATABASE_URL). ${SERVICES.postgres.hint}`);
  }
} else {
  const [host, port] = env.PG_PROBE.split(':');
  if (await canConnect({ host, port: Number(port) })) {
    env.DATABASE_URL = `postgres://postgres@${host}:${port}/neonpro`;
  } else {
    step(
      `Postgres: nothing answers on ${env.PG_PROBE}; starting an embedded PostgreSQL (data in ${env.EMBEDDED_PG_DIR})`,
    );
    try {
      embeddedPg = await startEmbeddedPostgres(group, { dir: env.EMBEDDED_PG_DIR, port: await freePort() });
    } catch (err) {
      await group.stopAll();
      fail(`${err.message}. ${SERVICES.postgres.hint.replace(/, or unset DATABASE_URL.*$/, '')}, or set DATABASE_URL.`);
    }
    env.DATABASE_URL = `${embeddedPg.url}/neonpro`;
  }
}
const dbEnv = { DATABASE_MIGRATION_URL: env.DATABASE_URL, DEMO_PASSWORD: env.DEMO_PASSWORD };
step(`Postgres: migrating ${new URL(env.DATABASE_URL).pathname.slice(1)} (created if missing)`);
await migrate(dbEnv);
step('Postgres: seeding the demo clinics');
await seed(dbEnv);

if (useAuthEmulator) {
  const authPort = Number(new URL(env.SUPABASE_URL).port || 54321);
  if ((await busyPorts([authPort])).length) {
    fail(`port ${authPort} (SUPABASE_URL) is already in use: stop whatever runs there and retry.`);
  }
  step(`Supabase Auth: starting the dev emulator at ${env.SUPABASE_URL}`);
  group.start('auth', process.execPath, ['tools/auth-emulator/main.mjs'], {
    env: { SUPABASE_URL: env.SUPABASE_URL, DATABASE_URL: env.DATABASE_URL },
  });
  if (!(await waitHttp(`${env.SUPABASE_URL}/auth/v1/.well-known/jwks.json`, 10000))) {
    await group.stopAll();
    fail('the auth emulator did not start; see its output above');
  }
} else {
  step(`Supabase Auth: using ${env.SUPABASE_URL}`);
}

const serviceEnv = {
  NATS_URL: env.NATS_URL,
  NODE_ENV: process.env.NODE_ENV ?? 'development',
  DATABASE_URL: serviceDatabaseUrl(env.DATABASE_URL),
  SUPABASE_URL: env.SUPABASE_URL,
  ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
};
const agentPorts = Array.from({ length: env.AGENT_REPLICAS }, (_, i) => env.AGENT_PORT + i);
const gatewayPorts = Array.from({ length: env.GATEWAY_REPLICAS }, (_, i) => env.GATEWAY_PORT + i * 10);

const busy = await busyPorts([...gatewayPorts, ...agentPorts]);
if (busy.length) {
  fail(`port(s) ${busy.join(', ')} already in use: stop whatever runs there (another npm start?) and retry.`);
}

for (const [i, port] of agentPorts.entries()) {
  group.start(`agent-${i + 1}`, process.execPath, ['dist/services/ai-agent/src/main.js'], {
    env: {
      ...serviceEnv,
      PORT: String(port),
      AGENT_INSTANCE_ID: `local-agent-${i + 1}`,
      AGENT_TOKEN_DELAY_MS: env.AGENT_TOKEN_DELAY_MS,
    },
  });
}
for (const [i, port] of gatewayPorts.entries()) {
  group.start(
    `gateway-${i + 1}`,
    process.execPath,
    [...serviceNodeFlags('gateway'), 'dist/services/gateway/src/main.js'],
    {
      env: { ...serviceEnv, PORT: String(port) },
    },
  );
}

const all = [...gatewayPorts, ...agentPorts].map((p) => `http://127.0.0.1:${p}/health/ready`);
const ok = await Promise.all(all.map((u) => waitHttp(u)));
if (ok.includes(false)) {
  await group.stopAll();
  fail('some services did not become ready; see their output above');
}

function pgBanner() {
  if (!embeddedPg) {
    return env.DATABASE_URL;
  }
  const u = new URL(env.DATABASE_URL);
  u.password = '***';
  return `${u} (embedded PostgreSQL, data in ${embeddedPg.dataDir}; password in ${join(env.EMBEDDED_PG_DIR, 'superuser-password')})`;
}

console.log(`
\x1b[32m✔ NeonPro is running\x1b[0m
  gateway   ${gatewayPorts.map((p) => `http://localhost:${p}`).join('  ')}
  agents    ${agentPorts.map((p) => `http://localhost:${p}/metrics`).join('  ')}
  NATS      ${env.NATS_URL}
  Redis     ${redisUrl ?? '(none: in-memory rate limits)'}
  Postgres  ${pgBanner()}
  Auth      ${env.SUPABASE_URL}${useAuthEmulator ? ' (dev emulator)' : ''}
  API docs  http://localhost:${gatewayPorts[0]}/docs

Log in as a demo user (admin@aurora.demo, recepcao@aurora.demo, dra.lima@aurora.demo, admin@boreal.demo)
and list patients:
  TOKEN=$(curl -s localhost:${gatewayPorts[0]}/v1/auth/login -H 'content-type: application/json' \\
       -d '{"email":"admin@aurora.demo","password":"${process.env.DEMO_PASSWORD ? '<your DEMO_PASSWORD>' : env.DEMO_PASSWORD}"}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token')
  curl -s localhost:${gatewayPorts[0]}/v1/patients?limit=5 -H "authorization: Bearer $TOKEN"
  curl -s "localhost:${gatewayPorts[0]}/v1/patients?search=conceicao" -H "authorization: Bearer $TOKEN"

Ask the assistant (JSON, then streamed), or open http://localhost:${gatewayPorts[0]}/ for the demo chat:
  curl -s localhost:${gatewayPorts[0]}/v1/ai/chat -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \\
       -d '{"message":"quais consultas a Dra. Lima tem amanhã?"}'
  curl -N localhost:${gatewayPorts[0]}/v1/ai/chat -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \\
       -H 'accept: text/event-stream' -d '{"message":"quais consultas a Dra. Lima tem amanhã?"}'

A service that exits unexpectedly is restarted with backoff; the rest keep running. Ctrl-C stops everything.
`);

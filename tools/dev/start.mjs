#!/usr/bin/env node
// `npm start`: the whole system locally, in the foreground. Dev-only: never part of an image.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProcessGroup } from '../lib/process-group.mjs';
import { busyPorts } from '../lib/ports.mjs';
import { canConnect, hostPort, SERVICES } from '../lib/services.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
process.chdir(root);

const env = {
  NATS_URL: process.env.NATS_URL ?? SERVICES.nats.url,
  GATEWAY_REPLICAS: Number(process.env.GATEWAY_REPLICAS ?? 1),
  AGENT_REPLICAS: Number(process.env.AGENT_REPLICAS ?? 2),
  AGENT_TOKEN_DELAY_MS: process.env.AGENT_TOKEN_DELAY_MS ?? '25',
  // Migrations and seed as the owner; the services as neonpro_authenticator (set role authenticated only).
  DATABASE_MIGRATION_URL: process.env.DATABASE_MIGRATION_URL ?? SERVICES.postgres.url,
  DATABASE_URL: process.env.DATABASE_URL ?? SERVICES.postgres.serviceUrl,
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
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} failed`);
}

async function waitHttp(url, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).status === 200) return true;
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
  if (natsDir) rmSync(natsDir, { recursive: true, force: true });
  process.exit(0);
};
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));

if (!existsSync('node_modules/.package-lock.json')) {
  step('installing dependencies (npm ci)');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}
step('building');
run('npm', ['run', '--silent', 'build']);

// NATS: use the one at NATS_URL, or start a throwaway JetStream server if we can.
const natsAddr = hostPort(env.NATS_URL);
if (await canConnect(natsAddr)) {
  step(`NATS: using ${env.NATS_URL}`);
} else {
  const bin = which('nats-server') ?? (existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : undefined);
  if (!bin)
    fail(
      `nothing listens on ${natsAddr.host}:${natsAddr.port} and nats-server is not installed. ${SERVICES.nats.hint}`,
    );
  natsDir = mkdtempSync(join(tmpdir(), 'neonpro-nats-'));
  step(`NATS: starting ${bin} with JetStream in ${natsDir}`);
  group.start('nats', bin, ['-js', '-a', natsAddr.host, '-p', String(natsAddr.port), '-sd', natsDir], { quiet: true });
  const deadline = Date.now() + 10000;
  while (!(await canConnect(natsAddr))) {
    if (Date.now() > deadline) fail('nats-server did not start');
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

// Postgres: must be reachable; the database is created, migrated and seeded (idempotent).
const pgAddr = hostPort(env.DATABASE_URL);
if (!(await canConnect(pgAddr)))
  fail(`PostgreSQL is not reachable at ${pgAddr.host}:${pgAddr.port} (DATABASE_URL). ${SERVICES.postgres.hint}`);
const dbEnv = { DATABASE_MIGRATION_URL: env.DATABASE_MIGRATION_URL, DEMO_PASSWORD: env.DEMO_PASSWORD };
step(`Postgres: migrating ${new URL(env.DATABASE_URL).pathname.slice(1)} (created if missing)`);
run(process.execPath, ['dist/libs/database/src/cli/migrate.js'], dbEnv);
step('Postgres: seeding the demo clinics');
run(process.execPath, ['dist/libs/database/src/cli/seed.js'], dbEnv);

if (useAuthEmulator) {
  const authPort = Number(new URL(env.SUPABASE_URL).port || 54321);
  if ((await busyPorts([authPort])).length)
    fail(`port ${authPort} (SUPABASE_URL) is already in use: stop whatever runs there and retry.`);
  step(`Supabase Auth: starting the dev emulator at ${env.SUPABASE_URL}`);
  group.start('auth', process.execPath, ['tools/auth-emulator/main.mjs'], {
    env: { SUPABASE_URL: env.SUPABASE_URL, DATABASE_URL: env.DATABASE_MIGRATION_URL },
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
  DATABASE_URL: env.DATABASE_URL,
  SUPABASE_URL: env.SUPABASE_URL,
  ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
};
const agentPorts = Array.from({ length: env.AGENT_REPLICAS }, (_, i) => 3001 + i);
const gatewayPorts = Array.from({ length: env.GATEWAY_REPLICAS }, (_, i) => 3000 + i * 10);

const busy = await busyPorts([...gatewayPorts, ...agentPorts]);
if (busy.length)
  fail(`port(s) ${busy.join(', ')} already in use: stop whatever runs there (another npm start?) and retry.`);

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
  group.start(`gateway-${i + 1}`, process.execPath, ['dist/services/gateway/src/main.js'], {
    env: { ...serviceEnv, PORT: String(port) },
  });
}

const all = [...gatewayPorts, ...agentPorts].map((p) => `http://127.0.0.1:${p}/health/ready`);
const ok = await Promise.all(all.map((u) => waitHttp(u)));
if (ok.includes(false)) {
  await group.stopAll();
  fail('some services did not become ready; see their output above');
}

console.log(`
\x1b[32m✔ NeonPro is running\x1b[0m
  gateway   ${gatewayPorts.map((p) => `http://localhost:${p}`).join('  ')}
  agents    ${agentPorts.map((p) => `http://localhost:${p}/metrics`).join('  ')}
  NATS      ${env.NATS_URL}
  Redis     ${redisUrl ?? '(none: in-memory rate limits)'}
  Postgres  ${env.DATABASE_URL}
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

Ctrl-C stops everything.
`);

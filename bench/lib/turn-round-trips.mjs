#!/usr/bin/env node
// Counts what one chat turn costs on the wire: NATS messages by kind (JetStream API requests,
// stream publishes, deliveries, acks) and Postgres statements and transactions, plus the CPU
// milliseconds of the gateway and the agent per turn. Everything runs on private servers (a
// throwaway `nats-server -js`; a bench database with `log_statement = all`), so other users of
// the machine's services do not show up in the counts.
//
//   node bench/lib/turn-round-trips.mjs [--turns 50] [--message oi] [--long 200] [--log /var/log/postgresql/postgresql-15-main.log]
//
// --long N: every measured turn goes to one session first grown to N turns (scenario 8's fill),
// so the counts are those of turn N+1 onwards instead of a session's first turn.
// --timeline: after the counted turns, one more turn with every NATS message's time (ms after
// the request was sent) and the response's, to see where a sequential turn's wall time goes.
//
// Needs `npm run build`, `nats-server` on PATH and read access to the Postgres server log.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connect } from '@nats-io/transport-node';
import { cpuMs, freePort, Proc } from './procs.mjs';
import { createBenchStack, NO_REFUSALS } from './stack.mjs';

const { values } = parseArgs({
  options: {
    turns: { type: 'string', default: '50' },
    message: { type: 'string', default: 'oi' },
    long: { type: 'string', default: '0' },
    log: { type: 'string', default: '/var/log/postgresql/postgresql-15-main.log' },
    env: { type: 'string', multiple: true, default: [] },
    timeline: { type: 'boolean', default: false },
  },
});
const turns = Number(values.turns);
const extraEnv = Object.fromEntries(values.env.map((kv) => kv.split('=', 2)));

const natsPort = await freePort();
const store = mkdtempSync(join(tmpdir(), 'turn-trips-nats-'));
const nats = new Proc('nats', spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(natsPort), '-sd', store]));
await new Promise((r) => setTimeout(r, 500));
const natsUrl = `nats://127.0.0.1:${natsPort}`;

const stack = await createBenchStack();
const dbName = new URL(stack.databaseUrl).pathname.slice(1);
await stack.query(`alter database "${dbName}" set log_statement = 'all'`);
try {
  const common = { NATS_URL: natsUrl, NATS_SUBJECT_PREFIX: 'trips', ...extraEnv };
  const agent = await stack.start('agent', 'dist/services/ai-agent/src/main.js', { ...common, AGENT_CONCURRENCY: '8' });
  const gateway = await stack.start('gateway', 'dist/services/gateway/src/main.js', { ...NO_REFUSALS, ...common });
  const auth = await stack.caller('recepcao@aurora.demo');
  const long = Number(values.long) > 0 ? randomUUID() : undefined;
  const chat = async (message = values.message) => {
    const r = await fetch(`${gateway.url}/v1/ai/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...auth.headers },
      body: JSON.stringify({ message, session_id: long }),
    });
    const body = await r.text();
    if (r.status !== 200) {
      throw new Error(`chat answered ${r.status}: ${body}`);
    }
  };
  for (let i = 0; i < 5; i++) {
    await chat(); // warm-up: connections, prepared statements, caches
  }
  // The fill of scenario 8 (bench/scenarios/turn-length.mjs): its four messages in turn.
  const fill = ['oi', 'quais horarios livres amanha?', 'obrigado', 'quem sao os profissionais?'];
  for (let i = 5; i < Number(values.long); i++) {
    await chat(fill[i % fill.length]);
  }
  const sniffer = await connect({ servers: natsUrl, name: 'sniffer' });
  const counts = new Map();
  const kind = (subject) =>
    subject.startsWith('$JS.API.')
      ? `JS API ${subject.split('.').slice(2, 4).join('.')}`
      : subject.startsWith('$JS.ACK.')
        ? 'JS ack (+ in-progress)'
        : subject.startsWith('$JS.EVENT.')
          ? `JS advisory ${subject.split('.').slice(3, 5).join('.')}`
          : subject.startsWith('_INBOX.')
            ? 'inbox (replies, PubAcks, pulled deliveries)'
            : subject.replace(/[0-9a-f-]{36}/, '<id>');
  let timeline; // [ms, subject] of the timeline turn's messages, when it runs
  sniffer.subscribe('>', {
    callback: (_e, m) => {
      counts.set(kind(m.subject), (counts.get(kind(m.subject)) ?? 0) + 1);
      timeline?.push([performance.now(), m.subject]);
    },
  });
  await sniffer.flush();
  const logFrom = statSync(values.log).size;
  const cpu0 = { gateway: cpuMs(gateway.child.pid), agent: cpuMs(agent.child.pid) };
  const t0 = performance.now();
  for (let i = 0; i < turns; i++) {
    await chat();
  }
  const wall = performance.now() - t0;
  const cpu = { gateway: cpuMs(gateway.child.pid) - cpu0.gateway, agent: cpuMs(agent.child.pid) - cpu0.agent };
  let timelineTurn;
  if (values.timeline) {
    timeline = [];
    const start = performance.now();
    await chat();
    timelineTurn = { start, end: performance.now(), messages: timeline };
    timeline = undefined;
  }
  await new Promise((r) => setTimeout(r, 1000)); // let the log and stray acks land
  await sniffer.drain();

  const log = readFileSync(values.log, 'utf8').slice(logFrom);
  const stmts = new Map();
  for (const line of log.split('\n')) {
    if (!line.includes(`@${dbName}`)) {
      continue;
    }
    const m = /LOG:\s+(statement|execute [^:]*):\s*(.*)$/.exec(line);
    if (!m) {
      continue;
    }
    const key = `${m[1].startsWith('execute') ? 'execute' : 'simple'}: ${m[2].replace(/\s+/g, ' ').slice(0, 90)}`;
    stmts.set(key, (stmts.get(key) ?? 0) + 1);
  }
  const per = (n) => (n / turns).toFixed(2);
  const where = long ? `, one session from turn ${Math.max(5, Number(values.long)) + 1}` : ', a new session each';
  console.log(
    `${turns} sequential turns${where}, message "${values.message}": ${(wall / turns).toFixed(2)} ms per turn`,
  );
  console.log(`CPU ms per turn: gateway ${per(cpu.gateway)}, agent ${per(cpu.agent)}`);
  const table = (title, map) => {
    console.log(`\n${title}`);
    let total = 0;
    for (const [k, n] of [...map].sort((a, b) => b[1] - a[1])) {
      total += n;
      console.log(`  ${per(n).padStart(7)}  ${k}`);
    }
    console.log(`  ${per(total).padStart(7)}  total`);
  };
  table('NATS messages per turn (every subject, seen by a `>` subscriber):', counts);
  table('Postgres statements per turn (each a round trip; a simple-protocol batch is one):', stmts);
  if (timelineTurn) {
    console.log('\nOne more turn, NATS messages in order (ms after the request was sent):');
    for (const [at, subject] of timelineTurn.messages) {
      console.log(`  ${(at - timelineTurn.start).toFixed(2).padStart(7)}  ${kind(subject)}  ${subject.slice(0, 60)}`);
    }
    console.log(`  ${(timelineTurn.end - timelineTurn.start).toFixed(2).padStart(7)}  response complete`);
  }
} finally {
  await stack.close();
  await nats.stop();
  rmSync(store, { recursive: true, force: true });
}

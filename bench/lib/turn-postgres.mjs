#!/usr/bin/env node
// Dev aid: a chat turn's two transactions straight against Postgres, no services: the agent's
// `chat.beginTurn` and `chat.appendAnswer` (with its usage row), each through `withUserStatement`
// as the agent runs them, sequentially on one connection. Prints the wall time per turn and the
// Postgres backend's CPU per turn (from /proc), the two figures of a turn's critical path that
// belong to Postgres alone.
//
//   node bench/lib/turn-postgres.mjs [--turns 2000] [--session new|same] [--sync] [--root DIR]
//
// --session same: every turn in one session (history of 32 messages read each time).
// --sync: the first transaction commits synchronously (what the agent did before session 7).
// --root: another checkout's build (e.g. a `git worktree` of an older commit), for A/B runs.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cpuMs, ROOT } from './procs.mjs';

const { values } = parseArgs({
  options: {
    turns: { type: 'string', default: '2000' },
    session: { type: 'string', default: 'new' },
    sync: { type: 'boolean', default: false },
    root: { type: 'string', default: ROOT },
  },
});
const { createBenchStack } = await import(join(values.root, 'bench/lib/stack.mjs'));
const { Database } = await import(join(values.root, 'dist/libs/database/src/index.js'));

const stack = await createBenchStack();
const token = await stack.token('recepcao@aurora.demo');
const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
const db = new Database({ url: stack.serviceDatabaseUrl, poolMax: 1 });
const backend = (await db.pool.query('select pg_backend_pid() as pid')).rows[0].pid;
const first = values.sync ? {} : { asynchronousCommit: true };
// What the first transaction really runs with (a --root build older than the option ignores it).
const firstCommit = await db.withUser(
  claims,
  async (_r, tx) => {
    const r = await tx.query(`select current_setting('synchronous_commit') as s`);
    return r.rows[0].s === 'off' ? 'asynchronous' : 'synchronous';
  },
  first,
);
const oneSession = randomUUID();

async function turn() {
  const sessionId = values.session === 'same' ? oneSession : randomUUID();
  const turnKey = randomUUID();
  const began = await db.withUserStatement(
    claims,
    (r) => r.chat.beginTurn(claims.sub, { sessionId, turnKey, content: 'oi', historyRows: 32 }),
    first,
  );
  if (began.outcome !== 'new') {
    throw new Error(`unexpected outcome ${began.outcome}`);
  }
  const usage = {
    session_id: sessionId,
    provider: 'local',
    model: 'local',
    input_tokens: 10,
    output_tokens: 8,
    tokens_reported: false,
    tool_calls: 0,
    duration_ms: 1,
    outcome: 'ok',
  };
  await db.withUserStatement(claims, (r) =>
    r.chat.appendAnswer(sessionId, 'Olá! Como posso ajudar?', turnKey, {}, usage),
  );
}

try {
  for (let i = 0; i < 300; i++) {
    await turn();
  }
  await stack.analyze(); // what autovacuum would have done by now (see createBenchStack)
  const turns = Number(values.turns);
  const cpu0 = cpuMs(backend);
  const t0 = performance.now();
  for (let i = 0; i < turns; i++) {
    await turn();
  }
  console.log(
    JSON.stringify({
      root: values.root,
      session: values.session,
      firstCommit,
      msPerTurn: Number(((performance.now() - t0) / turns).toFixed(3)),
      postgresCpuMsPerTurn: Number(((cpuMs(backend) - cpu0) / turns).toFixed(3)),
    }),
  );
} finally {
  await db.close();
  await stack.close();
}

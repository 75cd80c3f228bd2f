// Scenario 3: N authenticated Socket.IO sockets on one gateway (N = 1k, 5k, 10k; override with
// --sockets 2000,4000), M of them chatting. Reports time to connect, gateway RSS per connection
// and chat:token events/s delivered. Needs the built services, Postgres (a fresh seeded database
// is created and dropped), NATS and the dev auth emulator (started in-process). The agent is the
// real one (`node dist/services/ai-agent/src/main.js` with DATABASE_URL and its local model).
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ROOT } from '../lib/procs.mjs';
import { createBenchStack, NO_REFUSALS } from '../lib/stack.mjs';

export const id = 3;
export const title = 'Socket.IO: N authenticated sockets, M chatting (connect time, RSS per socket, tokens/s)';

function rssKiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

export async function run({ duration, natsUrl, sockets, chats = 50 }) {
  const sizes = sockets ?? [1000, 5000, 10000];
  const stack = await createBenchStack();
  const rows = [];
  const ratios = [];
  let extra =
    '| sockets | connected | connect s | gateway RSS idle MiB | with sockets MiB | KiB per socket | after chatting MiB | chatting | tokens/s | answers | answer p50 ms | answer p99 ms | errors |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n';
  try {
    const common = { NATS_URL: natsUrl, NATS_SUBJECT_PREFIX: `bench-sio-${randomBytes(4).toString('hex')}` };
    await stack.start('agent', 'dist/services/ai-agent/src/main.js', {
      ...common,
      LOG_LEVEL: 'warn',
      AGENT_CONCURRENCY: '64',
      AGENT_QUEUE_MAX: '1024',
    });
    const token = await stack.token('admin@aurora.demo');
    for (const n of sizes) {
      // A fresh gateway per size, so memory kept from a previous size is not counted.
      const gateway = await stack.start('gateway', 'dist/services/gateway/src/main.js', {
        ...NO_REFUSALS,
        ...common,
        SOCKET_MAX_CONNECTIONS: '100000',
        SOCKET_CONNECT_RATE_LIMIT: '1000000',
      });
      const gwPort = new URL(gateway.url).port;
      await new Promise((r) => setTimeout(r, 1000));
      const before = rssKiB(gateway.child.pid);
      const load = fork(
        join(ROOT, 'bench/load/socketio-load.mjs'),
        [JSON.stringify({ url: `http://127.0.0.1:${gwPort}`, token, sockets: n, chats: Math.min(chats, n), duration })],
        { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] },
      );
      let out = '';
      load.stdout.on('data', (b) => (out += b));
      const [{ connected }] = await once(load, 'message');
      await new Promise((r) => setTimeout(r, 1000));
      const after = rssKiB(gateway.child.pid);
      load.send('go');
      const [code] = await once(load, 'exit');
      if (code !== 0) {
        throw new Error(`socketio-load exited ${code}`);
      }
      const res = JSON.parse(out.trim().split('\n').at(-1));
      const afterChat = rssKiB(gateway.child.pid);
      await stack.stop(gateway);
      const perSocket = connected ? (after - before) / connected : NaN;
      extra += `| ${n} | ${res.connected} | ${(res.connectMs / 1000).toFixed(2)} | ${(before / 1024).toFixed(0)} | ${(after / 1024).toFixed(0)} | ${perSocket.toFixed(1)} | ${(afterChat / 1024).toFixed(0)} | ${Math.min(chats, n)} | ${res.tokensPerSec.toFixed(0)} | ${res.answers} | ${res.answerP50?.toFixed(1)} | ${res.answerP99?.toFixed(1)} | ${res.connectErrors + res.sendErrors} ${JSON.stringify(res.errorCodes)} |\n`;
      rows.push({
        label: `${n} sockets, ${Math.min(chats, n)} chatting: chat:send → chat:done`,
        rps: res.answers / duration,
        mean: NaN,
        p50: res.answerP50,
        p90: NaN,
        p99: res.answerP99,
        max: NaN,
        requests: res.answers,
        errors: res.sendErrors,
      });
      ratios.push({ label: `${n} sockets: gateway RSS per socket (KiB)`, value: perSocket });
      ratios.push({
        label: `${n} sockets: gateway RSS with them connected (MB)`,
        value: (after * 1024) / 1e6,
        target: n === 10000 ? '< 600 MB' : '',
      });
      ratios.push({ label: `${n} sockets: time to connect all (s)`, value: res.connectMs / 1000 });
      ratios.push({ label: `${n} sockets: chat:token events/s delivered`, value: res.tokensPerSec });
    }
  } finally {
    await stack.close();
  }
  return {
    rows,
    ratios,
    extra,
    notes: `A fresh gateway replica per size (in-memory adapter; its connection-state recovery keeps every broadcast packet for SOCKET_RECOVERY_WINDOW_MS, which is what grows while chatting), one agent replica (local model), one user token for every socket; ${duration}s of chatting per size; the load generator is a separate process on the same machine.`,
  };
}

// Scenario 4: chat throughput with 1 agent replica, then with 2, on a CPU-bound model stand-in
// (bench/agents/cpu-bound-agent.mjs), through the gateway.
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort, Proc, ROOT, runLoad, waitReady } from '../lib/procs.mjs';
import { createBenchStack, NO_REFUSALS } from '../lib/stack.mjs';

export const id = 4;
export const title = 'Agent scale-out: 2 replicas vs 1 on a CPU-bound model stand-in';

async function startCpuAgent(env) {
  const port = await freePort();
  const p = new Proc(
    'cpu-agent',
    spawn(process.execPath, [join(ROOT, 'bench/agents/cpu-bound-agent.mjs')], {
      env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  await waitReady(`http://127.0.0.1:${port}/health/ready`);
  return p;
}

export async function run({ duration, natsUrl }) {
  const stack = await createBenchStack();
  const agents = [];
  try {
    const token = await stack.token('admin@aurora.demo');
    const prefix = `bench-${randomBytes(4).toString('hex')}`;
    const common = { ...stack.baseEnv, NATS_URL: natsUrl, NATS_SUBJECT_PREFIX: prefix };
    const agentEnv = { ...common, AGENT_CONCURRENCY: '8', BENCH_MODEL_CPU_MS: '20' };
    agents.push(await startCpuAgent(agentEnv));
    const gateway = await stack.start('gateway', 'dist/services/gateway/src/main.js', { ...NO_REFUSALS, ...common });
    const cfg = {
      url: `${gateway.url}/v1/ai/chat`,
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'oi' }),
      connections: 16,
    };
    await runLoad('http-load.mjs', { ...cfg, duration: 2 });
    const one = await runLoad('http-load.mjs', { ...cfg, duration });
    agents.push(await startCpuAgent(agentEnv));
    await runLoad('http-load.mjs', { ...cfg, duration: 2 });
    const two = await runLoad('http-load.mjs', { ...cfg, duration });
    return {
      rows: [
        { label: '1 agent replica', ...one },
        { label: '2 agent replicas', ...two },
      ],
      ratios: [{ label: 'throughput 2 replicas ÷ 1 replica', value: two.rps / one.rps, target: '≥ 1.8' }],
      notes: `Each answer burns 20 ms of CPU in the model stand-in, then the real agent persists the turn in Postgres. 16 connections, ${duration}s each after a 2s warm-up. Gateway, Postgres, NATS and the load generator share the same cores, which caps the gain.`,
    };
  } finally {
    await Promise.all(agents.map((a) => a.stop()));
    await stack.close();
  }
}

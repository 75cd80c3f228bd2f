// Dev aid: scenario 2's stack held under 32-client JSON chat load for --seconds, printing pids, so a profiler
// (perf, top) can be attached from outside. Not a bench scenario.
import { parseArgs } from 'node:util';
import { cpuMs, runLoad } from './procs.mjs';
import { createBenchStack } from './stack.mjs';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '20' }, connections: { type: 'string', default: '32' } },
});
const stack = await createBenchStack();
try {
  const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
  const { agent, gateway } = await stack.startChat(natsUrl);
  const auth = await stack.caller('recepcao@aurora.demo');
  const url = `${gateway.url}/v1/ai/chat`;
  const cfg = {
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...auth.headers },
    body: JSON.stringify({ message: 'oi' }),
  };
  await runLoad('http-load.mjs', { ...cfg, connections: 32, duration: 2 });
  await stack.analyze();
  console.log(JSON.stringify({ gateway: gateway.child.pid, agent: agent.child.pid }));
  console.log('LOAD START', Date.now());
  const c0 = [cpuMs(gateway.child.pid), cpuMs(agent.child.pid)];
  const r = await runLoad('http-load.mjs', {
    ...cfg,
    connections: Number(values.connections),
    duration: Number(values.seconds),
  });
  const c1 = [cpuMs(gateway.child.pid), cpuMs(agent.child.pid)];
  console.log(
    'LOAD END',
    r.rps,
    'rps p50',
    r.p50,
    'gw ms/turn',
    ((c1[0] - c0[0]) / r.requests).toFixed(2),
    'agent',
    ((c1[1] - c0[1]) / r.requests).toFixed(2),
  );
} finally {
  await stack.close();
}

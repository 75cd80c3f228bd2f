#!/usr/bin/env node
// Dev aid, not a bench scenario: bytes allocated per request under scenario 1's load (64
// connections, GET a patient), by package and by frame, for the gateway or the bare baseline.
// V8's sampling heap profiler runs over the inspector with the objects that die young counted too
// (`includeObjectsCollectedByMinorGC`), so the figure is the allocation that drives scavenges, not
// what stays alive. Allocation per request does not depend on the machine's load; CPU does.
//
//   node bench/lib/alloc-per-request.mjs [--target gateway|bare] [--seconds 4] [--top 40] [--interval 4096]
//
// Needs `npm run build`. The service runs with its image's node flags (as in the bench) plus
// `--inspect` on a free loopback port.
import { parseArgs } from 'node:util';
import { where } from './cpuprofile.mjs';
import { freePort, runLoad } from './procs.mjs';
import { startReadTargets } from './read-targets.mjs';
import { createBenchStack } from './stack.mjs';

const { values } = parseArgs({
  options: {
    target: { type: 'string', default: 'gateway' },
    seconds: { type: 'string', default: '4' },
    top: { type: 'string', default: '40' },
    interval: { type: 'string', default: '4096' }, // mean bytes between samples
  },
});
if (!['gateway', 'bare'].includes(values.target)) {
  throw new Error('--target is gateway or bare');
}

/** Minimal DevTools protocol client over the inspector's WebSocket. */
async function inspector(port) {
  const [{ webSocketDebuggerUrl }] = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  const ws = new WebSocket(webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.addEventListener('open', resolve, { once: true });
    ws.addEventListener('error', reject, { once: true });
  });
  let next = 0;
  const pending = new Map();
  ws.addEventListener('message', (e) => {
    const m = JSON.parse(e.data);
    pending.get(m.id)?.(m);
    pending.delete(m.id);
  });
  return {
    call: (method, params = {}) =>
      new Promise((resolve) => {
        const id = ++next;
        pending.set(id, resolve);
        ws.send(JSON.stringify({ id, method, params }));
      }),
    close: () => ws.close(),
  };
}

const stack = await createBenchStack();
let bare;
try {
  const inspectPort = await freePort();
  const inspect = `--inspect=127.0.0.1:${inspectPort}`;
  const targets = await startReadTargets(stack, {
    natsUrl: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
    gatewayEnv: values.target === 'gateway' ? { NODE_OPTIONS: inspect } : {},
    bareNodeArgs: values.target === 'bare' ? [inspect] : [],
  });
  bare = targets.bare.proc;
  const load = targets[values.target].load;
  await runLoad('http-load.mjs', { ...load, connections: 64, duration: 3 }); // warm-up: JIT, pools, caches
  const cdp = await inspector(inspectPort);
  await cdp.call('HeapProfiler.enable');
  await cdp.call('HeapProfiler.startSampling', {
    samplingInterval: Number(values.interval),
    includeObjectsCollectedByMinorGC: true,
    includeObjectsCollectedByMajorGC: true,
  });
  const res = await runLoad('http-load.mjs', { ...load, connections: 64, duration: Number(values.seconds) });
  const { profile } = (await cdp.call('HeapProfiler.stopSampling')).result;
  cdp.close();

  const byFrame = new Map();
  const byPackage = new Map();
  let total = 0;
  const add = (map, key, bytes) => map.set(key, (map.get(key) ?? 0) + bytes);
  const walk = (node) => {
    if (node.selfSize) {
      const cf = node.callFrame;
      total += node.selfSize;
      add(byPackage, where(cf), node.selfSize);
      add(
        byFrame,
        `${cf.functionName || '(anonymous)'} ${where(cf)} ${cf.url.split('/').at(-1)}:${cf.lineNumber + 1}`,
        node.selfSize,
      );
    }
    node.children.forEach(walk);
  };
  walk(profile.head);
  const kb = (bytes) => `${(bytes / res.requests / 1024).toFixed(2).padStart(6)} KB`;
  console.log(
    `${values.target}: ${res.requests} requests, ${res.rps.toFixed(0)} req/s, ${kb(total).trim()} allocated per request`,
  );
  console.log('\nby package (per request)');
  for (const [k, v] of [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) {
    console.log(`${kb(v)}  ${k}`);
  }
  console.log('\nby frame (per request)');
  for (const [k, v] of [...byFrame].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) {
    console.log(`${kb(v)}  ${k}`);
  }
} finally {
  await bare?.stop();
  await stack.close();
}

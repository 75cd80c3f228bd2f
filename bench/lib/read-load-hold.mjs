#!/usr/bin/env node
// Dev aid, not a bench scenario: scenario 1's load (64 connections, GET a patient) held on one of
// its two servers for --seconds after a 3 s warm-up. It prints the server's pid as the load starts
// (attach perf, top or strace from outside) and, per request: the server's CPU (all threads), its
// main thread's user CPU and preemptions, its minor page faults and the load generator's CPU.
// --node-options='…' (with the =: the value starts with a dash) go to the server's node (the
// gateway's through NODE_OPTIONS, on top of its image's flags), e.g.
// `--perf-basic-prof-only-functions` for perf, or `--import` of a heap sampler.
//
// --show-output prints what the server wrote (a preload's lines, `--trace-gc`) at the end.
//
//   node bench/lib/read-load-hold.mjs [--target gateway|bare] [--seconds 8] [--node-options='...']
//                                     [--show-output]
//
// Needs `npm run build`.
import { parseArgs } from 'node:util';
import { measured } from './proc-usage.mjs';
import { runLoad } from './procs.mjs';
import { startReadTargets } from './read-targets.mjs';
import { createBenchStack } from './stack.mjs';

const { values } = parseArgs({
  options: {
    target: { type: 'string', default: 'gateway' },
    seconds: { type: 'string', default: '8' },
    'node-options': { type: 'string', default: '' },
    'show-output': { type: 'boolean', default: false },
  },
});
if (values.target !== 'gateway' && values.target !== 'bare') {
  throw new Error(`--target must be gateway or bare, not '${values.target}'`);
}
const nodeOptions = values['node-options'].trim();
const stack = await createBenchStack();
let targets;
try {
  targets = await startReadTargets(stack, {
    natsUrl: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
    gatewayEnv: nodeOptions && values.target === 'gateway' ? { NODE_OPTIONS: nodeOptions } : {},
    bareNodeArgs: nodeOptions && values.target === 'bare' ? nodeOptions.split(/\s+/) : [],
  });
  const target = targets[values.target];
  const load = { ...target.load, connections: 64 };
  await runLoad('http-load.mjs', { ...load, duration: 3 });
  const pid = target.proc.child.pid;
  console.log(JSON.stringify({ target: values.target, pid }));
  console.log('LOAD START', Date.now());
  const r = await measured(pid, () => runLoad('http-load.mjs', { ...load, duration: Number(values.seconds) }));
  const per = (v) => Number((v / r.requests).toFixed(4));
  console.log(
    JSON.stringify({
      target: values.target,
      rps: Math.round(r.rps),
      p50: r.p50,
      errors: r.errors,
      cpuMsPerReq: per(r.cpuMs),
      mainUserMsPerReq: per(r.mainUserMs),
      preemptionsPerReq: per(r.preemptions),
      minorFaultsPerReq: per(r.minorFaults),
      loadgenCpuMsPerReq: per(r.loadgenCpuMs),
    }),
  );
  if (values['show-output']) {
    process.stdout.write(target.proc.out);
  }
} finally {
  await targets?.bare.proc.stop();
  await stack.close();
}

// Scenario 1: authenticated healthcare read GET /v1/patients/:id through the gateway (JWT
// verification, Redis throttler, RLS transaction, audit insert) beside a bare Fastify + pg
// handler running the same SQL (same libs/database call) with fixed claims.
import { runLoad } from '../lib/procs.mjs';
import { measured } from '../lib/proc-usage.mjs';
import { startReadTargets } from '../lib/read-targets.mjs';
import { createBenchStack } from '../lib/stack.mjs';

export const id = 1;
export const title = 'Authenticated healthcare read: gateway vs bare Fastify + pg (same SQL)';

/** Several runs of one path as one: totals added, rates averaged, latency percentiles weighted by requests. */
function merge(runs) {
  const requests = runs.reduce((a, r) => a + r.requests, 0);
  const w = (k) => runs.reduce((a, r) => a + r[k] * r.requests, 0) / requests;
  const cpu = runs.reduce((a, r) => a + r.cpuMs, 0);
  return {
    requests,
    errors: runs.reduce((a, r) => a + r.errors, 0),
    rps: runs.reduce((a, r) => a + r.rps, 0) / runs.length,
    mean: w('mean'),
    p50: w('p50'),
    p90: w('p90'),
    p99: Math.max(...runs.map((r) => r.p99)),
    max: Math.max(...runs.map((r) => r.max)),
    cpuMsPerReq: cpu / requests,
    syscallsPerReq: runs.reduce((a, r) => a + r.syscalls, 0) / requests,
    mainUserMsPerReq: runs.reduce((a, r) => a + r.mainUserMs, 0) / requests,
    preemptionsPerReq: runs.reduce((a, r) => a + r.preemptions, 0) / requests,
    minorFaultsPerReq: runs.reduce((a, r) => a + r.minorFaults, 0) / requests,
    loadgenMsPerReq: runs.reduce((a, r) => a + r.loadgenCpuMs, 0) / requests,
  };
}

export async function run({ duration, natsUrl }) {
  const stack = await createBenchStack();
  let bare;
  try {
    const targets = await startReadTargets(stack, { natsUrl });
    bare = targets.bare.proc;
    const gateway = targets.gateway.proc;
    const patient = targets.patient;
    const connections = 64;
    const ours = { ...targets.gateway.load, connections };
    const base = { ...targets.bare.load, connections };
    await runLoad('http-load.mjs', { ...ours, duration: 2 });
    await runLoad('http-load.mjs', { ...base, duration: 2 });
    // Alternating halves, so drift in a shared machine's load hits both sides alike; CPU seconds
    // per request (from /proc) are the less noisy figure when the machine is busy.
    const half = Math.max(1, duration / 2);
    const gwRuns = [];
    const bareRuns = [];
    for (let i = 0; i < 2; i++) {
      gwRuns.push(await measured(gateway.child.pid, () => runLoad('http-load.mjs', { ...ours, duration: half })));
      bareRuns.push(await measured(bare.child.pid, () => runLoad('http-load.mjs', { ...base, duration: half })));
    }
    const gw = merge(gwRuns);
    const bareRes = merge(bareRuns);
    const [{ n }] = await stack.query(`select count(*)::int as n from audit_log where subject_id = $1`, [patient.id]);
    return {
      rows: [
        { label: 'gateway GET /v1/patients/:id', ...gw },
        { label: 'baseline: bare Fastify + pg, same SQL', ...bareRes },
      ],
      ratios: [
        { label: 'gateway req/s ÷ bare req/s', value: gw.rps / bareRes.rps, target: '≥ 0.8' },
        // Each half's own ratio: how far the machine's phase moved the figure within this run.
        ...gwRuns.map((g, i) => ({
          label: `gateway ÷ bare req/s, half ${i + 1} of each`,
          value: g.rps / bareRuns[i].rps,
        })),
        { label: 'gateway CPU ms per request', value: gw.cpuMsPerReq },
        { label: 'bare CPU ms per request', value: bareRes.cpuMsPerReq },
        { label: 'bare CPU per request ÷ gateway CPU per request', value: bareRes.cpuMsPerReq / gw.cpuMsPerReq },
        { label: 'gateway read/write system calls per request', value: gw.syscallsPerReq },
        { label: 'bare read/write system calls per request', value: bareRes.syscallsPerReq },
        // The event loop's own JS time, what the gateway adds on top of the same SQL; and how often
        // the kernel took the main thread's core (a profile charges that wait to a write).
        { label: 'gateway main-thread user CPU ms per request', value: gw.mainUserMsPerReq },
        { label: 'bare main-thread user CPU ms per request', value: bareRes.mainUserMsPerReq },
        { label: 'gateway main-thread preemptions per request', value: gw.preemptionsPerReq },
        { label: 'bare main-thread preemptions per request', value: bareRes.preemptionsPerReq },
        // Fresh pages of a growing heap: on a VM each costs far more than the instructions around it.
        { label: 'gateway minor page faults per request', value: gw.minorFaultsPerReq },
        { label: 'bare minor page faults per request', value: bareRes.minorFaultsPerReq },
        // The load generator shares the machine: the gateway's larger requests and answers (the
        // bearer token in, 26 headers out) cost it more per request than the bare server's.
        { label: 'load generator CPU ms per gateway request', value: gw.loadgenMsPerReq },
        { label: 'load generator CPU ms per bare request', value: bareRes.loadgenMsPerReq },
      ],
      metrics: { s1_ratio: gw.rps / bareRes.rps, s1_gateway_rps: gw.rps },
      notes: `${connections} connections, ${duration}s each (two alternating halves) after a 2s warm-up. p50/p90 are the request-weighted means of the halves, p99 and max the worse half. Every request writes one audit row (${n} rows written in this run, both paths). Redis rate-limit counters on; limits set high so nothing is refused.`,
    };
  } finally {
    await bare?.stop();
    await stack.close();
  }
}

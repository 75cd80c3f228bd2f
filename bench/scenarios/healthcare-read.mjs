// Scenario 1: authenticated healthcare read GET /v1/patients/:id through the gateway (JWT
// verification, Redis throttler, RLS transaction, audit insert) beside a bare Fastify + pg
// handler running the same SQL (same libs/database call) with fixed claims.
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort, Proc, ROOT, runLoad, waitReady } from '../lib/procs.mjs';
import { measured } from '../lib/proc-usage.mjs';
import { createBenchStack, NO_REFUSALS } from '../lib/stack.mjs';

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
  };
}

export async function run({ duration, natsUrl }) {
  const stack = await createBenchStack();
  let bare;
  try {
    const token = await stack.token('admin@aurora.demo');
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
    const [patient] = await stack.query(
      `select p.id from patients p join clinics c on c.id = p.clinic_id where c.name like '%Aurora%' and p.anonymized_at is null order by p.id limit 1`,
    );
    const gateway = await stack.start('gateway', 'dist/services/gateway/src/main.js', {
      ...NO_REFUSALS,
      NATS_URL: natsUrl,
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      RATE_LIMIT_KEY_PREFIX: `bench:${randomBytes(4).toString('hex')}:`,
    });
    const barePort = await freePort();
    bare = new Proc(
      'bare',
      spawn(process.execPath, [join(ROOT, 'bench/baseline/bare-healthcare.mjs')], {
        env: {
          ...process.env,
          DATABASE_URL: stack.serviceDatabaseUrl,
          PORT: String(barePort),
          CLAIMS: JSON.stringify(claims),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    await waitReady(`http://127.0.0.1:${barePort}/health/ready`);
    const connections = 64;
    const ours = {
      url: `${gateway.url}/v1/patients/${patient.id}`,
      headers: { authorization: `Bearer ${token}` },
      connections,
    };
    const base = { url: `http://127.0.0.1:${barePort}/patients/${patient.id}`, connections };
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
        { label: 'gateway CPU ms per request', value: gw.cpuMsPerReq },
        { label: 'bare CPU ms per request', value: bareRes.cpuMsPerReq },
        { label: 'bare CPU per request ÷ gateway CPU per request', value: bareRes.cpuMsPerReq / gw.cpuMsPerReq },
        { label: 'gateway read/write system calls per request', value: gw.syscallsPerReq },
        { label: 'bare read/write system calls per request', value: bareRes.syscallsPerReq },
      ],
      metrics: { s1_ratio: gw.rps / bareRes.rps, s1_gateway_rps: gw.rps },
      notes: `${connections} connections, ${duration}s each (two alternating halves) after a 2s warm-up. p50/p90 are the request-weighted means of the halves, p99 and max the worse half. Every request writes one audit row (${n} rows written in this run, both paths). Redis rate-limit counters on; limits set high so nothing is refused.`,
    };
  } finally {
    await bare?.stop();
    await stack.close();
  }
}

// Scenario 1: authenticated healthcare read GET /v1/patients/:id through the gateway (JWT
// verification, Redis throttler, RLS transaction, audit insert) beside a bare Fastify + pg
// handler running the same SQL (same libs/database call) with fixed claims.
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort, Proc, ROOT, runLoad, waitReady } from '../lib/procs.mjs';
import { createBenchStack, NO_REFUSALS } from '../lib/stack.mjs';

export const id = 1;
export const title = 'Authenticated healthcare read: gateway vs bare Fastify + pg (same SQL)';

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
    const gw = await runLoad('http-load.mjs', { ...ours, duration });
    const bareRes = await runLoad('http-load.mjs', { ...base, duration });
    const [{ n }] = await stack.query(`select count(*)::int as n from audit_log where subject_id = $1`, [patient.id]);
    return {
      rows: [
        { label: 'gateway GET /v1/patients/:id', ...gw },
        { label: 'baseline: bare Fastify + pg, same SQL', ...bareRes },
      ],
      ratios: [{ label: 'gateway req/s ÷ bare req/s', value: gw.rps / bareRes.rps, target: '≥ 0.6' }],
      notes: `${connections} connections, ${duration}s each after a 2s warm-up. Every request writes one audit row (${n} rows written in this run, both paths). Redis rate-limit counters on; limits set high so nothing is refused.`,
    };
  } finally {
    await bare?.stop();
    await stack.close();
  }
}

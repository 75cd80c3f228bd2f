// Scenario 1's two servers on a bench stack, reading the same patient: the gateway
// (GET /v1/patients/:id as the clinic's admin) and the bare Fastify + pg baseline
// (bench/baseline/bare-healthcare.mjs, the same libs/database call with the admin's claims).
// Used by the scenario and by bench/lib/alloc-per-request.mjs, so both measure the same pair.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { freePort, Proc, ROOT, waitReady } from './procs.mjs';
import { NO_REFUSALS } from './stack.mjs';

/**
 * Starts both and returns them with what a load generator needs for each (`gateway.load`,
 * `bare.load`: url and headers). `gatewayEnv` is added to the gateway's environment,
 * `bareNodeArgs` go before the bare server's script. The gateway is stopped by `stack.close()`;
 * the bare server by the caller (`bare.proc.stop()`), also when this throws after starting it.
 */
export async function startReadTargets(stack, { natsUrl, gatewayEnv = {}, bareNodeArgs = [] }) {
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
    ...gatewayEnv,
  });
  const barePort = await freePort();
  const bare = new Proc(
    'bare',
    spawn(process.execPath, [...bareNodeArgs, join(ROOT, 'bench/baseline/bare-healthcare.mjs')], {
      env: {
        ...process.env,
        DATABASE_URL: stack.serviceDatabaseUrl,
        PORT: String(barePort),
        CLAIMS: JSON.stringify(claims),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const targets = {
    patient,
    gateway: {
      proc: gateway,
      load: { url: `${gateway.url}/v1/patients/${patient.id}`, headers: { authorization: `Bearer ${token}` } },
    },
    bare: { proc: bare, load: { url: `http://127.0.0.1:${barePort}/patients/${patient.id}`, headers: {} } },
  };
  try {
    await waitReady(`http://127.0.0.1:${barePort}/health/ready`);
  } catch (err) {
    await bare.stop();
    throw err;
  }
  return targets;
}

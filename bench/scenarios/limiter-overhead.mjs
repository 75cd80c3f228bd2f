// Scenario 6: rate-limiter overhead on a light authenticated route (GET /v1/me): Redis storage,
// in-memory storage, and no limiter, one gateway configuration after the other.
import { randomBytes } from 'node:crypto';
import { runLoad } from '../lib/procs.mjs';
import { createBenchStack, NO_REFUSALS } from '../lib/stack.mjs';

export const id = 6;
export const title = 'Rate-limiter overhead: Redis storage vs in-memory vs no limiter (GET /v1/me)';

export async function run({ duration, natsUrl }) {
  const stack = await createBenchStack();
  try {
    const token = await stack.token('admin@aurora.demo');
    const variants = [
      ['Redis storage', { REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }],
      ['in-memory storage', {}],
      ['no limiter (RATE_LIMIT_ENABLED=false)', { RATE_LIMIT_ENABLED: 'false' }],
    ];
    // All three run side by side and are measured in interleaved rounds, so drift on a shared
    // machine hits every variant alike.
    const gws = [];
    for (const [label, env] of variants) {
      const gw = await stack.start('gateway', 'dist/services/gateway/src/main.js', {
        ...NO_REFUSALS,
        ...env,
        NATS_URL: natsUrl,
        RATE_LIMIT_KEY_PREFIX: `bench:${randomBytes(4).toString('hex')}:`,
      });
      gws.push({
        label,
        cfg: { url: `${gw.url}/v1/me`, headers: { authorization: `Bearer ${token}` }, connections: 64 },
      });
    }
    for (const g of gws) {
      await runLoad('http-load.mjs', { ...g.cfg, duration: 2 });
    }
    const rounds = 3;
    const samples = gws.map(() => []);
    for (let round = 0; round < rounds; round++) {
      for (const [i, g] of gws.entries()) {
        samples[i].push(
          await runLoad('http-load.mjs', { ...g.cfg, duration: Math.max(1, Math.round(duration / rounds)) }),
        );
      }
    }
    const mean = (xs, k) => xs.reduce((a, x) => a + x[k], 0) / xs.length;
    const rows = gws.map((g, i) => ({
      label: g.label,
      rps: mean(samples[i], 'rps'),
      mean: mean(samples[i], 'mean'),
      p50: mean(samples[i], 'p50'),
      p90: mean(samples[i], 'p90'),
      p99: mean(samples[i], 'p99'),
      max: Math.max(...samples[i].map((x) => x.max)),
      requests: samples[i].reduce((a, x) => a + x.requests, 0),
      errors: samples[i].reduce((a, x) => a + x.errors, 0),
    }));
    const none = rows[2];
    return {
      rows,
      ratios: [
        { label: 'Redis req/s ÷ no-limiter req/s', value: rows[0].rps / none.rps },
        { label: 'in-memory req/s ÷ no-limiter req/s', value: rows[1].rps / none.rps },
        { label: 'Redis added mean latency (ms)', value: rows[0].mean - none.mean },
        { label: 'in-memory added mean latency (ms)', value: rows[1].mean - none.mean },
      ],
      notes: `64 connections; three gateways side by side, measured in 3 interleaved rounds (${duration}s per variant in all), figures averaged over rounds. The membership lookup is cached, so the route does no SQL.`,
    };
  } finally {
    await stack.close();
  }
}

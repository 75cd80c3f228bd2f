import { writeFileSync, mkdirSync } from 'node:fs';
import {
  freePort,
  NATS_URL,
  type ServiceProcess,
  spawnService,
  uniquePrefix,
  type AuthFixture,
  createAuthFixture,
  DEMO_USERS,
} from '@neonpro/testing';
import { scaled, UNLIMITED } from './drill-mode.js';

const gauge = async (p: ServiceProcess, name: string): Promise<number> => {
  const text = await (await fetch(`${p.url}/metrics`)).text();
  return Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)`, 'm').exec(text)?.[1]);
};

/** Drill: mixed load for a while; RSS and event-loop lag are reported at start and end. */
describe('drill: soak under mixed load', () => {
  const prefix = uniquePrefix('drill-soak');
  let gateway: ServiceProcess;
  let fx: AuthFixture;
  let authorization = '';
  let agent: ServiceProcess;

  beforeAll(async () => {
    fx = await createAuthFixture();
    authorization = `Bearer ${await fx.token(DEMO_USERS.auroraReception)}`;
    const env = { ...fx.env, NATS_URL, NATS_SUBJECT_PREFIX: prefix, LOG_LEVEL: 'warn' };
    agent = spawnService('ai-agent', await freePort(), { ...env, AGENT_CONCURRENCY: '16', AGENT_QUEUE_MAX: '512' });
    gateway = spawnService('gateway', await freePort(), { ...env, ...UNLIMITED });
    await Promise.all([gateway.waitReady(), agent.waitReady()]);
  });

  afterAll(async () => {
    await Promise.all([gateway?.stop('SIGKILL'), agent?.stop('SIGKILL')]);
    await fx?.close();
  });

  // SOAK_MS shortens (or lengthens) the soak, e.g. for a quick full-mode pass of the other drills.
  const durationMs = Number(process.env.SOAK_MS ?? scaled(8_000, 600_000));

  it(
    'keeps serving with no 5xx; reports RSS and event-loop lag',
    async () => {
      const start = {
        rss: await gauge(gateway, 'process_resident_memory_bytes'),
        lag: await gauge(gateway, 'nodejs_eventloop_lag_p99_seconds'),
      };
      const counts: Record<string, number> = {};
      const end = Date.now() + durationMs;
      const worker = async (i: number): Promise<void> => {
        while (Date.now() < end) {
          const kind = i % 4;
          const res =
            kind === 0
              ? await fetch(`${gateway.url}/health/ready`)
              : await fetch(`${gateway.url}/v1/ai/chat`, {
                  method: 'POST',
                  headers: {
                    'content-type': 'application/json',
                    authorization,
                    accept: kind === 1 ? 'text/event-stream' : 'application/json',
                  },
                  body: JSON.stringify(kind === 3 ? { message: '' } : { message: 'Olá, quais consultas temos hoje?' }),
                });
          await res.arrayBuffer();
          counts[res.status] = (counts[res.status] ?? 0) + 1;
        }
      };
      // The same gauges under load, early and late (the idle start/finish readings say little about lag).
      const sample = async (atMs: number): Promise<{ rss: number; lag: number }> => {
        await new Promise((res) => setTimeout(res, atMs));
        return {
          rss: await gauge(gateway, 'process_resident_memory_bytes'),
          lag: await gauge(gateway, 'nodejs_eventloop_lag_p99_seconds'),
        };
      };
      const [underLoadEarly, underLoadLate] = await Promise.all([
        sample(Math.min(2000, durationMs / 4)),
        sample(Math.max(0, durationMs - 2000)),
        ...Array.from({ length: 8 }, (_, i) => worker(i)),
      ]);
      const finish = {
        rss: await gauge(gateway, 'process_resident_memory_bytes'),
        lag: await gauge(gateway, 'nodejs_eventloop_lag_p99_seconds'),
      };
      const report = { durationMs, counts, start, underLoadEarly, underLoadLate, finish };
      mkdirSync('test-results', { recursive: true });
      writeFileSync('test-results/soak.json', JSON.stringify(report, null, 2));
      console.log(`soak: ${JSON.stringify(report)}`);
      expect(Object.keys(counts).filter((s) => Number(s) >= 500)).toEqual([]);
      expect(counts['200']).toBeGreaterThan(0);
      expect(gateway.running && agent.running).toBe(true);
    },
    durationMs + 60_000,
  );
});

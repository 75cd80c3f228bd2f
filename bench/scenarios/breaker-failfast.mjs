// Scenario 5: chat requests while the agents are down and the breaker is open, beside the same
// requests while the agents are up. Reports p99 latency (target: < 10 ms with agents down).
import { measured } from '../lib/proc-usage.mjs';
import { runLoad } from '../lib/procs.mjs';
import { createBenchStack } from '../lib/stack.mjs';

export const id = 5;
export const title = 'Breaker fail-fast: chat with agents down (breaker open) vs agents up';

export async function run({ duration, natsUrl }) {
  const stack = await createBenchStack();
  try {
    const token = await stack.token('admin@aurora.demo');
    const { agent, gateway } = await stack.startChat(natsUrl, {
      agentEnv: { AGENT_QUEUE_MAX: '1024' },
      // Stay open for the whole measurement instead of probing every few seconds.
      gatewayEnv: { AGENT_BREAKER_HALF_OPEN_MS: '600000' },
    });
    const cfg = {
      url: `${gateway.url}/v1/ai/chat`,
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'oi' }),
      // Few connections: this measures the latency of a refusal, not queueing at saturation.
      connections: 4,
    };
    await runLoad('http-load.mjs', { ...cfg, duration: 2 });
    const up = await runLoad('http-load.mjs', { ...cfg, duration });
    await stack.stop(agent);
    // Trip the breaker: consecutive no-responders failures.
    for (let i = 0; i < 10; i++) {
      await (await fetch(cfg.url, { method: 'POST', headers: cfg.headers, body: cfg.body })).arrayBuffer();
    }
    const state = (await (await fetch(`${gateway.url}/metrics`)).text()).match(
      /^gateway_breaker_state\{[^}]*name="agent"[^}]*\} (\d)/m,
    )?.[1];
    // The refusal path has not run before this point: its first seconds run code V8 has not
    // optimised yet. Measured apart, as every other scenario's measured run follows a warm-up of
    // its own path (docs/performance.md, breaker fail-fast, "Fourth pass").
    const cold = await runLoad('http-load.mjs', { ...cfg, duration: 2 });
    const down = await measured(gateway.child.pid, () => runLoad('http-load.mjs', { ...cfg, duration }));
    return {
      rows: [
        { label: 'agents up (200 answers)', ...up },
        { label: 'agents down, first 2 s after the breaker opened (503 answers, cold)', ...cold },
        { label: 'agents down, breaker open (503 answers)', ...down },
      ],
      ratios: [
        { label: 'p99 with agents down (ms)', value: down.p99, target: '≤ 3 ms' },
        { label: 'p99 in the first 2 s after the breaker opened (ms)', value: cold.p99 },
        { label: 'p99 down ÷ p99 up', value: down.p99 / up.p99 },
        // Latency percentiles at 4 connections follow the machine's load; the refusal's own cost does not.
        { label: 'gateway CPU ms per refused request', value: down.cpuMs / down.requests },
        { label: 'gateway read/write system calls per refused request', value: down.syscalls / down.requests },
      ],
      metrics: { breaker_p99: down.p99 },
      notes: `4 connections, ${duration}s each (the first 2 s after the breaker opened apart). Breaker state before the down run: ${state === '1' ? 'open' : `gauge=${state}`}. In the down run every answer is the 503 problem (counted as non-2xx in "errors").`,
    };
  } finally {
    await stack.close();
  }
}

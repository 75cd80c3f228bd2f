// Scenario 7: a burst of 4× the cluster's concurrency (2 agents × AGENT_CONCURRENCY 4 = 8 slots,
// 32 clients at once) while the queue stays under AGENT_QUEUE_MAX_PENDING: runs wait in
// AGENT_RUNS and drain as slots free up; nothing is refused.
import { randomBytes } from 'node:crypto';
import { runLoad } from '../lib/procs.mjs';
import { createBenchStack, NO_REFUSALS } from '../lib/stack.mjs';

export const id = 7;
export const title = 'Burst of 4× cluster concurrency drains through the JetStream queue';

export async function run({ duration, natsUrl }) {
  const stack = await createBenchStack();
  try {
    const prefix = `bench-${randomBytes(4).toString('hex')}`;
    const common = { NATS_URL: natsUrl, NATS_SUBJECT_PREFIX: prefix };
    const concurrency = 4;
    const agentEnv = {
      ...common,
      LOG_LEVEL: 'warn',
      AGENT_CONCURRENCY: String(concurrency),
      AGENT_TOKEN_DELAY_MS: '5',
    };
    await stack.start('agent-1', 'dist/services/ai-agent/src/main.js', agentEnv);
    await stack.start('agent-2', 'dist/services/ai-agent/src/main.js', agentEnv);
    const clients = 2 * concurrency * 4;
    const gateway = await stack.start('gateway', 'dist/services/gateway/src/main.js', {
      ...NO_REFUSALS,
      ...common,
      // The bound the burst stays under: 32 clients never leave more than 24 runs waiting.
      AGENT_QUEUE_MAX_PENDING: String(clients * 2),
    });
    const auth = await stack.caller('recepcao@aurora.demo');
    const burst = await runLoad('http-load.mjs', {
      url: `${gateway.url}/v1/ai/chat`,
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...auth.headers },
      body: JSON.stringify({ message: 'oi' }),
      connections: clients,
      duration,
    });
    const refused = burst.statusCodes?.['503']?.count ?? 0;
    return {
      rows: [{ label: `${clients} clients on 8 slots (2 agents × ${concurrency})`, ...burst }],
      ratios: [
        { label: '503 responses during the burst', value: refused, target: '0' },
        { label: 'non-2xx responses', value: burst.errors, target: '0' },
      ],
      notes: `${duration}s of ${clients} concurrent clients (each sends its next chat when the last is answered); AGENT_QUEUE_MAX_PENDING ${clients * 2}.`,
    };
  } finally {
    await stack.close();
  }
}

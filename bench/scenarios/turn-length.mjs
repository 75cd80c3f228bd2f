// Scenario 8: the cost of a chat turn at turn 1 vs turn 200 of the same session (local model,
// one client, through the gateway's REST JSON endpoint). A turn loads the session's history
// within AGENT_CONTEXT_TOKEN_BUDGET; this shows whether the cost grows with the session's length.
import { randomBytes, randomUUID } from 'node:crypto';
import { summarize } from '../lib/stats.mjs';
import { createBenchStack, NO_REFUSALS } from '../lib/stack.mjs';

export const id = 8;
export const title = 'Chat turn cost: turn 1 vs turn 200 of the same session (local model, 1 client)';

const MESSAGES = ['oi', 'quais horarios livres amanha?', 'obrigado', 'quem sao os profissionais?'];

export async function run({ duration, natsUrl, turns = 200 }) {
  const stack = await createBenchStack();
  try {
    const common = { NATS_URL: natsUrl, NATS_SUBJECT_PREFIX: `bench-turns-${randomBytes(4).toString('hex')}` };
    await stack.start('agent', 'dist/services/ai-agent/src/main.js', { ...common, LOG_LEVEL: 'warn' });
    const gateway = await stack.start('gateway', 'dist/services/gateway/src/main.js', { ...NO_REFUSALS, ...common });
    const auth = await stack.caller('admin@aurora.demo');
    const headers = { 'content-type': 'application/json', accept: 'application/json', ...auth.headers };
    let errors = 0;
    const turn = async (sessionId, i) => {
      const t0 = performance.now();
      const r = await fetch(`${gateway.url}/v1/ai/chat`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ message: MESSAGES[i % MESSAGES.length], session_id: sessionId }),
      });
      await r.arrayBuffer();
      if (r.status !== 200) {
        errors++;
      }
      return performance.now() - t0;
    };
    // Samples per side: more with a longer --duration, at least 10.
    const samples = Math.max(10, Math.round(duration * 10));
    for (let i = 0; i < 3; i++) {
      await turn(randomUUID(), 0);
    } // warm-up
    // One session grown to `turns - 1` turns first.
    const long = randomUUID();
    const fillStart = performance.now();
    for (let i = 0; i < turns - 1; i++) {
      await turn(long, i);
    }
    const fillS = (performance.now() - fillStart) / 1000;
    // Then the two sides alternate, so a change in the machine's speed during the run falls on
    // both: turn 1 of a fresh session, and the long session's next turn (from turn `turns`). Both
    // send the same message (message 0, as in turn 1 of the long one).
    const first = [];
    const late = [];
    for (let i = 0; i < samples; i++) {
      first.push(await turn(randomUUID(), 0));
      late.push(await turn(long, 0));
    }
    const [{ n }] = await stack.query('select count(*)::int as n from chat_messages where session_id = $1', [long]);
    const a = summarize(first, 1);
    const b = summarize(late, 1);
    return {
      rows: [
        { label: `turn 1 (${samples} fresh sessions)`, ...a, rps: NaN, errors: 0 },
        { label: `turns ${turns}–${turns + samples - 1} of one session`, ...b, rps: NaN, errors },
      ],
      ratios: [{ label: `turn ${turns} p50 ÷ turn 1 p50`, value: b.p50 / a.p50, target: '≤ 1.2' }],
      metrics: { turn_growth: b.p50 / a.p50 },
      notes: `The two sides alternate, one turn each, after the long session is filled. Both are measured on the message "${MESSAGES[0]}"; the fill cycles through ${JSON.stringify(MESSAGES)}; the long session held ${n} stored messages at the end (filled by ${turns - 1} real turns in ${fillS.toFixed(1)}s). Latency is measured by the client around each POST /v1/ai/chat (JSON).`,
    };
  } finally {
    await stack.close();
  }
}

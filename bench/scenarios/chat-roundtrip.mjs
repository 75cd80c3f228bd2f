// Scenario 2: chat round trip through gateway → JetStream → agent, beside a raw JetStream round
// trip (queue the run, follow its log) to the same agent. The difference in p50 is what the
// gateway adds. CPU milliseconds per turn of the gateway and the agent (from /proc), and their main
// threads' user time (the JS), are the figures that move least on a busy machine.
//
// Then the agent is replaced by the bare agent (bench/baseline/bare-agent.mjs: the grant, the
// turn's two Postgres statements, token + done, ack; no Nest, model or logging) behind the same
// gateway: the architecture's floor, and what the agent's own code costs above it.
// Last, as a diagnostic, the bare agent without the turn's two Postgres statements: how much of
// the floor is the turn's storage.
import { spent, usage } from '../lib/proc-usage.mjs';
import { runLoad } from '../lib/procs.mjs';
import { createBenchStack } from '../lib/stack.mjs';

export const id = 2;
export const title = 'Chat round trip, local model (REST JSON and SSE) vs raw JetStream round trip';

export async function run({ duration, natsUrl }) {
  const stack = await createBenchStack();
  try {
    const { prefix, agent, gateway } = await stack.startChat(natsUrl);
    const gwPort = new URL(gateway.url).port;
    const auth = await stack.caller('recepcao@aurora.demo');
    const message = 'oi';
    const headers = { 'content-type': 'application/json', ...auth.headers };
    const body = JSON.stringify({ message });
    const connections = 32;
    const url = `http://127.0.0.1:${gwPort}/v1/ai/chat`;
    const chatLoad = (accept, connections, duration) =>
      runLoad('http-load.mjs', { url, method: 'POST', headers: { ...headers, accept }, body, connections, duration });
    /** JSON turns at `connections`, with the gateway's and the agent process's CPU per turn. */
    const jsonTurns = async (agentProc, connections) => {
      const before = { gateway: usage(gateway.child.pid), agent: usage(agentProc.child.pid) };
      const json = await chatLoad('application/json', connections, duration);
      const gw = spent(before.gateway, usage(gateway.child.pid));
      const ag = spent(before.agent, usage(agentProc.child.pid));
      json.gatewayCpuMs = gw.cpuMs / json.requests;
      json.agentCpuMs = ag.cpuMs / json.requests;
      json.gatewayMainUserMs = gw.mainUserMs / json.requests;
      json.agentMainUserMs = ag.mainUserMs / json.requests;
      return json;
    };
    await chatLoad('application/json', connections, 2); // warm-up
    await stack.analyze();
    // And at the concurrency measured first: without it, the first one-client phase after start-up
    // was the slowest of its kind in each of three probe runs (docs/performance.md, chat,
    // "Seventeenth pass").
    await chatLoad('application/json', 1, 2);
    const load = async (connections) => {
      const json = await jsonTurns(agent, connections);
      const sse = await chatLoad('text/event-stream', connections, duration);
      const raw = await runLoad('nats-load.mjs', {
        url: natsUrl,
        prefix,
        userId: auth.userId,
        grantKey: stack.grantPrivateKey,
        message,
        connections,
        duration,
      });
      return { json, sse, raw };
    };
    // One client shows the latency the gateway adds; 32 clients show throughput at saturation.
    const one = await load(1);
    const many = await load(connections);
    /** Stops `previous` and starts the bare agent on the same streams and consumer, answering and warm. */
    const bareAgentAfter = async (previous, env = {}) => {
      await stack.stop(previous);
      const bare = await stack.start('bare-agent', 'bench/baseline/bare-agent.mjs', {
        NATS_URL: natsUrl,
        NATS_SUBJECT_PREFIX: prefix,
        ...env,
      });
      await waitAnswered(url, { ...headers, accept: 'application/json' }, body);
      await chatLoad('application/json', connections, 2); // warm-up
      return bare;
    };
    // The same gateway with the bare agent.
    const bareAgent = await bareAgentAfter(agent);
    await chatLoad('application/json', 1, 2);
    const bareOne = await jsonTurns(bareAgent, 1);
    const bareMany = await jsonTurns(bareAgent, connections);
    // A diagnostic, not a baseline: the bare agent without the turn's two Postgres statements. What
    // it gains is the machine's cost of a turn's storage, the part no agent code can remove.
    const storeless = await bareAgentAfter(bareAgent, { BARE_AGENT_WITHOUT_STATEMENTS: '1' });
    const storelessMany = await jsonTurns(storeless, connections);
    return {
      rows: [
        { label: 'gateway REST JSON, 1 client', ...one.json },
        { label: 'gateway REST SSE, 1 client', ...one.sse },
        { label: 'baseline: raw JetStream round trip, 1 client', ...one.raw },
        { label: `gateway REST JSON, ${connections} clients`, ...many.json },
        { label: `gateway REST SSE, ${connections} clients`, ...many.sse },
        { label: `baseline: raw JetStream round trip, ${connections} clients`, ...many.raw },
        { label: 'baseline: gateway REST JSON with the bare agent, 1 client', ...bareOne },
        { label: `baseline: gateway REST JSON with the bare agent, ${connections} clients`, ...bareMany },
        {
          label: `diagnostic: gateway REST JSON with the bare agent without its two Postgres statements, ${connections} clients`,
          ...storelessMany,
        },
      ],
      ratios: [
        { label: 'gateway added p50, JSON, 1 client (ms)', value: one.json.p50 - one.raw.p50, target: '≤ 2 ms' },
        { label: 'gateway added p50, SSE, 1 client (ms)', value: one.sse.p50 - one.raw.p50, target: '≤ 2 ms' },
        { label: 'gateway added mean latency, JSON, 1 client (ms)', value: one.json.mean - one.raw.mean },
        { label: `JSON req/s ÷ raw JetStream req/s, ${connections} clients`, value: many.json.rps / many.raw.rps },
        { label: `gateway added p50, JSON, ${connections} clients (ms)`, value: many.json.p50 - many.raw.p50 },
        { label: `gateway CPU ms per turn, JSON, ${connections} clients`, value: many.json.gatewayCpuMs },
        { label: `agent CPU ms per turn, JSON, ${connections} clients`, value: many.json.agentCpuMs },
        {
          label: `gateway main-thread user CPU ms per turn, JSON, ${connections} clients`,
          value: many.json.gatewayMainUserMs,
        },
        {
          label: `agent main-thread user CPU ms per turn, JSON, ${connections} clients`,
          value: many.json.agentMainUserMs,
        },
        { label: 'gateway CPU ms per turn, JSON, 1 client', value: one.json.gatewayCpuMs },
        { label: 'agent CPU ms per turn, JSON, 1 client', value: one.json.agentCpuMs },
        {
          label: `JSON turns/s with the agent ÷ with the bare agent, ${connections} clients`,
          value: many.json.rps / bareMany.rps,
        },
        { label: 'agent added p50, JSON, 1 client (ms)', value: one.json.p50 - bareOne.p50 },
        { label: `bare agent CPU ms per turn, JSON, ${connections} clients`, value: bareMany.agentCpuMs },
        {
          label: `gateway CPU ms per turn with the bare agent, JSON, ${connections} clients`,
          value: bareMany.gatewayCpuMs,
        },
        {
          label: `bare agent turns/s with ÷ without its two Postgres statements, ${connections} clients`,
          value: bareMany.rps / storelessMany.rps,
        },
      ],
      metrics: {
        chat_rps_32: many.json.rps,
        chat_p50_1: one.json.p50,
        bare_agent_rps_32: bareMany.rps,
        bare_agent_p50_1: bareOne.p50,
        bare_agent_without_statements_rps_32: storelessMany.rps,
      },
      notes: `${duration}s per run, after 2 s of warm-up at 32 clients and 2 s at 1; agent concurrency 64 (the bare agent's too); message "${message}". autocannon reports whole milliseconds.`,
    };
  } finally {
    await stack.close();
  }
}

/** Polls one chat turn until the gateway answers it (its admission has seen the new agent). */
async function waitAnswered(url, headers, body, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(url, { method: 'POST', headers, body }).catch(() => undefined);
    await res?.arrayBuffer();
    if (res?.status === 200) {
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(`no chat answered with the bare agent (last status ${res?.status ?? 'none'})`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

// Baseline for scenario 2: the least an agent replica must do for a turn under this architecture,
// without Nest, LangChain, the local model, logging or metrics. Per run it does what the real agent
// cannot skip: pull it from AGENT_RUNS (no more than its free slots), verify the gateway's run grant,
// the turn's two Postgres statements through the agent's own built store (`beginMemberTurn`, with
// the history budget, and `completeTurn`, the answer with its usage), then the answer as one `token`
// event and the stored `done`, and the ack. It answers presence like an agent, so the gateway
// admits chats. The answer is the local model's help text, fixed.
//
// Env: DATABASE_URL, NATS_URL, NATS_SUBJECT_PREFIX, AGENT_GRANT_PUBLIC_KEY, PORT (GET /health/ready).
// BARE_AGENT_WITHOUT_STATEMENTS=1 (a diagnostic, not a baseline: it does less than a turn must)
// skips the two Postgres statements, so that scenario 2 can show what share of a turn is storage.
// The streams and consumer must exist (the real agent provisions them; scenario 2 starts it first).
import { createServer } from 'node:http';
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import * as c from '../../dist/libs/contracts/src/index.js';
import { Database } from '../../dist/libs/database/src/index.js';
import { PostgresConversationStore } from '../../dist/services/ai-agent/src/persistence/postgres-conversation-store.js';

const { DATABASE_URL, NATS_URL, NATS_SUBJECT_PREFIX, AGENT_GRANT_PUBLIC_KEY, PORT } = process.env;
const withStatements = process.env.BARE_AGENT_WITHOUT_STATEMENTS !== '1';
const SLOTS = 64; // scenario 2's AGENT_CONCURRENCY
const HISTORY_BUDGET = 4000; // AGENT_CONTEXT_TOKEN_BUDGET's default
const ANSWER =
  'Olá! Sou o assistente da clínica. Posso buscar pacientes (nome, CPF ou telefone), mostrar a agenda de qualquer dia ou período (também de um profissional), horários livres, horários e serviços da clínica, e agendar, remarcar ou cancelar consultas com a sua confirmação.';

const bus = c.agentBus(NATS_SUBJECT_PREFIX);
const key = c.importGrantKey(AGENT_GRANT_PUBLIC_KEY, 'verify');
const db = new Database({ url: DATABASE_URL, poolMax: 10 });
const store = new PostgresConversationStore(db);
const nc = await connect({ servers: NATS_URL });
const js = jetstream(nc);
const consumer = await js.consumers.get(bus.runsStream, bus.consumer);
let running = 0;
let accepting = true;
let wake;

nc.subscribe(bus.presence, {
  callback: (_err, m) =>
    accepting && m.respond(c.agentWire.encodePresence({ instance: 'bare', free_slots: SLOTS - running })),
});

async function handle(m) {
  const decoded = c.agentWire.decodeRunRequest(m.data);
  if (!decoded.ok) {
    m.term();
    return;
  }
  const r = decoded.value;
  const subject = bus.events(r.message_id);
  const turn = { sessionId: r.session_id, turnKey: r.message_id };
  const grant = c.verifyRunGrant(key, m.headers?.get(c.NATS_HEADERS.grant), {
    messageId: r.message_id,
    sessionId: r.session_id,
    message: r.message,
  });
  const user = {
    sub: grant.userId,
    raw: { sub: grant.userId, role: 'authenticated', aud: 'authenticated', exp: grant.exp },
  };
  const started = withStatements
    ? await store.beginMemberTurn(user, { ...turn, content: r.message, historyBudget: HISTORY_BUDGET })
    : undefined;
  if (withStatements && !started) {
    throw new Error('the caller belongs to no clinic');
  }
  nc.publish(subject, c.agentWire.encodeEvent({ type: 'token', seq: 1, delta: ANSWER }));
  if (started) {
    await store.completeTurn(started.caller, {
      ...turn,
      content: ANSWER,
      usage: {
        session_id: r.session_id,
        provider: 'local',
        model: 'bare',
        input_tokens: 1,
        output_tokens: 60,
        tokens_reported: false,
        tool_calls: 0,
        duration_ms: 0,
        outcome: 'ok',
      },
    });
  }
  await js.publish(
    subject,
    c.agentWire.encodeEvent({ type: 'done', seq: 2, message_id: r.message_id, content: ANSWER }),
  );
  m.ack();
}

async function pull() {
  while (accepting) {
    if (running >= SLOTS) {
      await new Promise((resolve) => (wake = resolve));
      continue;
    }
    const batch = await consumer.fetch({ max_messages: SLOTS - running, expires: 5000 });
    for await (const m of batch) {
      running++;
      handle(m)
        .catch((err) => console.error('bare agent: run failed:', err.message))
        .finally(() => {
          running--;
          wake?.();
          wake = undefined;
        });
    }
  }
}

const health = createServer((req, res) => res.writeHead(req.url === '/health/ready' ? 200 : 404).end());
health.listen(Number(PORT), '127.0.0.1');
void pull();
process.once('SIGTERM', () => {
  accepting = false;
  health.close();
  void nc
    .drain()
    .then(() => db.close?.())
    .then(() => process.exit(0));
});

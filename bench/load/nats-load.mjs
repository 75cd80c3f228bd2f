// Raw JetStream round trip in its own process: the baseline for the chat round trip. Each call
// queues a run exactly as the gateway does (owner event, run with a grant signed by the stack's key)
// and follows the run's event log to its terminal event, with the shared codec.
// argv[2]: {url, prefix, userId, grantKey, message, connections, duration}.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { jetstream } from '@nats-io/jetstream';
import { connect, headers } from '@nats-io/transport-node';
import { ROOT } from '../lib/procs.mjs';
import { summarize } from '../lib/stats.mjs';

const c = await import(pathToFileURL(join(ROOT, 'dist/libs/contracts/src/index.js')).href);
const cfg = JSON.parse(process.argv[2]);
const nc = await connect({ servers: cfg.url });
const js = jetstream(nc);
const bus = c.agentBus(cfg.prefix);
const key = c.importGrantKey(cfg.grantKey, 'sign');
const latencies = [];
let errors = 0;
const end = Date.now() + cfg.duration * 1000;

async function one() {
  // A new turn each time, like the gateway's requests (a replayed turn would flatter the baseline).
  const r = { session_id: randomUUID(), message_id: randomUUID(), message: cfg.message };
  const t0 = performance.now();
  const grant = c.signRunGrant(
    key,
    { userId: cfg.userId, messageId: r.message_id, sessionId: r.session_id, message: r.message },
    900,
  );
  const h = headers();
  h.set(c.NATS_HEADERS.grant, grant);
  await js.publish(
    bus.events(r.message_id),
    c.agentWire.encodeEvent({ type: 'accepted', seq: 0, user_id: cfg.userId, session_id: r.session_id }),
  );
  await js.publish(bus.chat, c.agentWire.encodeRunRequest(r), { headers: h, msgID: r.message_id });
  let ok = false;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 10000);
  for await (const e of c.followRunLog(js, bus, r.message_id, { signal: abort.signal })) {
    if (e.type === 'done') {
      ok = true;
    }
  }
  clearTimeout(timer);
  if (ok) {
    latencies.push(performance.now() - t0);
  } else {
    errors++;
  }
}

await Promise.all(
  Array.from({ length: cfg.connections }, async () => {
    while (Date.now() < end) {
      await one().catch(() => errors++);
    }
  }),
);
await nc.drain();
console.log(JSON.stringify(summarize(latencies, cfg.duration, errors)));

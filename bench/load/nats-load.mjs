// Raw NATS request-reply load in its own process: the baseline for the chat round trip.
// argv[2]: {url, subject, payload, headers?, connections, duration}. Counts a call done at the reply
// packet that carries isDisposed (the same end-of-stream the gateway waits for).
import { randomUUID } from 'node:crypto';
import { connect, createInbox, headers } from '@nats-io/transport-node';
import { summarize } from '../lib/stats.mjs';

const cfg = JSON.parse(process.argv[2]);
const nc = await connect({ servers: cfg.url });
const latencies = [];
let errors = 0;
const end = Date.now() + cfg.duration * 1000;

async function one() {
  const inbox = createInbox();
  const sub = nc.subscribe(inbox);
  const t0 = performance.now();
  const h = headers();
  // e.g. the caller's claims, as the gateway sends them.
  for (const [k, v] of Object.entries(cfg.headers ?? {})) {
    h.set(k, v);
  }
  // A new conversation turn each time, like the gateway's requests: the agent replays a turn it
  // already answered (same message id) instead of running it, which would flatter the baseline.
  const data = cfg.payload.data && { ...cfg.payload.data, session_id: randomUUID(), message_id: randomUUID() };
  const packet = { ...cfg.payload, ...(data ? { data } : {}), id: randomUUID() };
  nc.publish(cfg.subject, JSON.stringify(packet), { reply: inbox, headers: h });
  const timer = setTimeout(() => sub.unsubscribe(), 10000);
  let ok = false;
  for await (const m of sub) {
    if (m.data.length === 0) {
      break;
    }
    if (m.json().isDisposed) {
      ok = true;
      break;
    }
  }
  clearTimeout(timer);
  sub.unsubscribe();
  if (ok) {
    latencies.push(performance.now() - t0);
  } else {
    errors++;
  }
}

await Promise.all(
  Array.from({ length: cfg.connections }, async () => {
    while (Date.now() < end) {
      await one();
    }
  }),
);
await nc.drain();
console.log(JSON.stringify(summarize(latencies, cfg.duration, errors)));

// Raw NATS request-reply load in its own process: the baseline for the chat round trip.
// argv[2]: {url, subject, payload, connections, duration}. Counts a call done at the reply
// packet that carries isDisposed (the same end-of-stream the gateway waits for).
import { randomUUID } from 'node:crypto';
import { connect, createInbox } from '@nats-io/transport-node';
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
  nc.publish(cfg.subject, JSON.stringify({ ...cfg.payload, id: randomUUID() }), { reply: inbox });
  const timer = setTimeout(() => sub.unsubscribe(), 10000);
  let ok = false;
  for await (const m of sub) {
    if (m.data.length === 0) break;
    if (m.json().isDisposed) {
      ok = true;
      break;
    }
  }
  clearTimeout(timer);
  sub.unsubscribe();
  if (ok) latencies.push(performance.now() - t0);
  else errors++;
}

await Promise.all(
  Array.from({ length: cfg.connections }, async () => {
    while (Date.now() < end) await one();
  }),
);
await nc.drain();
console.log(JSON.stringify(summarize(latencies, cfg.duration, errors)));

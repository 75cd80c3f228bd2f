// Socket.IO load generator (own process): opens N authenticated /chat sockets (websocket
// transport), reports how long that took, then keeps M of them chatting for `duration`
// seconds and counts the chat:token events delivered. Prints one JSON line.
import { io } from 'socket.io-client';

const cfg = JSON.parse(process.argv[2]);
const { url, token, sockets: n, chats: m, duration, batch = 200 } = cfg;

const sockets = [];
let connectErrors = 0;
const errorCodes = {};
function open() {
  return new Promise((resolve) => {
    const s = io(`${url}/chat`, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
    s.once('connect', () => resolve(s));
    s.once('connect_error', (err) => {
      connectErrors++;
      const code = err?.data?.code ?? err.message;
      errorCodes[code] = (errorCodes[code] ?? 0) + 1;
      s.close();
      resolve(undefined);
    });
  });
}

const t0 = performance.now();
for (let i = 0; i < n; i += batch) {
  const opened = await Promise.all(Array.from({ length: Math.min(batch, n - i) }, open));
  for (const s of opened) {
    if (s) {
      sockets.push(s);
    }
  }
}
const connectMs = performance.now() - t0;
process.send?.({ connected: sockets.length });
// The parent samples the gateway's RSS now; it tells us when to start chatting.
await new Promise((resolve) => {
  if (!process.send) {
    return resolve();
  }
  process.once('message', resolve);
});

let tokens = 0;
let done = 0;
let sendErrors = 0;
const chatters = sockets.slice(0, m);
const deadline = Date.now() + duration * 1000;
const latencies = [];
await Promise.all(
  chatters.map(async (s, i) => {
    s.on('chat:token', () => tokens++);
    let k = 0;
    while (Date.now() < deadline) {
      const started = performance.now();
      const ended = new Promise((resolve) => {
        const onEnd = () => {
          s.off('chat:done', onEnd);
          s.off('chat:error', onEnd);
          resolve();
        };
        s.on('chat:done', onEnd);
        s.on('chat:error', onEnd);
      });
      const ack = await s
        .timeout(30000)
        .emitWithAck('chat:send', { message: 'oi', client_message_id: `b-${i}-${k++}` })
        .catch(() => undefined);
      if (!ack?.ok) {
        sendErrors++;
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      await ended;
      done++;
      latencies.push(performance.now() - started);
    }
  }),
);
const elapsed = duration;
for (const s of sockets) {
  s.close();
}
latencies.sort((a, b) => a - b);
const pct = (p) =>
  latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] : NaN;
console.log(
  JSON.stringify({
    connected: sockets.length,
    connectErrors,
    errorCodes,
    connectMs,
    tokens,
    tokensPerSec: tokens / elapsed,
    answers: done,
    sendErrors,
    answerP50: pct(50),
    answerP99: pct(99),
  }),
);
process.exit(0);

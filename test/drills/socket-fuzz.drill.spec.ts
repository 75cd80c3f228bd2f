import { randomUUID } from 'node:crypto';
import {
  createAuthFixture,
  DEMO_USERS,
  freePort,
  NATS_URL,
  type AuthFixture,
  type ServiceProcess,
  spawnService,
  uniquePrefix,
  deletePrefixStreams,
} from '@neonpro/testing';
import type { Socket } from 'socket.io-client';
import { scaled, UNLIMITED } from './drill-mode.js';
import { nastyValue, oneOf, rng } from './fuzz-inputs.js';
import { connectOutcome, openSocket, SOCKET_BOUND_MS } from './socket-client.js';

const MAX_PAYLOAD = 16 * 1024;
const EVENTS: Record<string, string[]> = {
  'chat:send': ['message', 'session_id', 'client_message_id'],
  'chat:cancel': ['message_id'],
  'session:join': ['session_id'],
  'session:leave': ['session_id'],
};
const UNKNOWN_EVENTS = ['chat:sendx', 'session:', 'constructor', '__proto__', 'toString', 'chat:done', 'x'.repeat(300)];
/** The codes a client mistake may get; anything else (internal, a 5xx-like failure) is a finding. */
const CLIENT_ERROR_CODES = ['invalid_payload', 'not_found', 'rate_limited'];

const rssBytes = async (p: ServiceProcess): Promise<number> => {
  const text = await (await fetch(`${p.url}/metrics`)).text();
  return Number(/^process_resident_memory_bytes(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1]);
};

/** A payload for an event: a nasty value, an object of its fields with nasty values, or a valid-looking one. */
function nastyPayload(r: () => number, fields: string[]): unknown {
  const kind = r();
  if (kind < 0.2) {
    return nastyValue(r);
  }
  if (kind < 0.3) {
    const [first] = fields;
    return first !== undefined ? { [first]: 'ção 漢字 🦷'.repeat(Math.floor(r() * 100)) } : {};
  }
  if (kind < 0.4) {
    // Shaped like a real call, with uuids where the schema wants them.
    const obj: Record<string, unknown> = {};
    for (const f of fields) {
      obj[f] = f === 'message' ? 'oi' : f === 'client_message_id' ? `fuzz-${randomUUID()}` : randomUUID();
    }
    return obj;
  }
  const obj: Record<string, unknown> = {};
  for (const f of fields) {
    if (r() < 0.8) {
      obj[f] = nastyValue(r);
    }
  }
  if (r() < 0.3) {
    obj[String(nastyValue(r))] = nastyValue(r);
  }
  return obj;
}

interface Finding {
  event: string;
  what: string;
}

/** Drill: every Socket.IO event with bad input. Zero crashes, sockets stay up, every ack is well-formed. */
describe('drill: bad input fuzz over every Socket.IO event', () => {
  const prefix = uniquePrefix('drill-sfuzz');
  let fx: AuthFixture;
  let token = '';
  let agent: ServiceProcess;
  let gateway: ServiceProcess;

  beforeAll(async () => {
    fx = await createAuthFixture();
    token = await fx.token(DEMO_USERS.auroraReception);
    const env = { ...fx.env, NATS_URL, NATS_SUBJECT_PREFIX: prefix, LOG_LEVEL: 'warn' };
    agent = spawnService('ai-agent', await freePort(), { ...env, AGENT_CONCURRENCY: '16', AGENT_QUEUE_MAX: '256' });
    gateway = spawnService('gateway', await freePort(), {
      ...env,
      ...UNLIMITED,
      SOCKET_CONNECT_RATE_LIMIT: '100000',
      SOCKET_MAX_PAYLOAD_BYTES: String(MAX_PAYLOAD),
    });
    await Promise.all([gateway.waitReady(), agent.waitReady()]);
  });

  afterAll(async () => {
    await Promise.all([gateway?.stop('SIGKILL'), agent?.stop('SIGKILL')]);
    await deletePrefixStreams(prefix);
    await fx?.close();
  });

  it(
    'answers every malformed event with a well-formed ack or chat:error; no crash, no 5xx after',
    async () => {
      const cases = scaled(400, 20000);
      const r = rng(Number(process.env.FUZZ_SEED ?? 20261127));
      const findings: Finding[] = [];
      let oversizedDisconnects = 0;
      const acks: Record<string, number> = {};
      const rssBefore = await rssBytes(gateway);

      const checkAck = (event: string, ack: unknown): void => {
        const a = ack as { ok?: unknown; error?: { code?: unknown; message?: unknown } } | undefined;
        acks[a?.ok === true ? 'ok' : String(a?.error?.code)] =
          (acks[a?.ok === true ? 'ok' : String(a?.error?.code)] ?? 0) + 1;
        if (a?.ok === true) {
          return;
        }
        if (
          a?.ok === false &&
          CLIENT_ERROR_CODES.includes(String(a.error?.code)) &&
          typeof a.error?.message === 'string'
        ) {
          return;
        }
        findings.push({ event, what: `ack ${JSON.stringify(ack)}` });
      };

      // chat:error answers to events sent without an ack (they name the event).
      const eventErrors: { event?: unknown }[] = [];
      const connect = async (): Promise<{ socket: Socket }> => {
        const { socket } = openSocket(gateway.url, token);
        const outcome = await connectOutcome(socket);
        if (!outcome.connected) {
          throw new Error(`fuzz socket refused: ${String(outcome.code)}`);
        }
        socket.on('chat:error', (e: { event?: unknown }) => {
          if (e && typeof e === 'object' && 'event' in e) {
            eventErrors.push(e);
          }
        });
        return { socket };
      };

      const worker = async (): Promise<void> => {
        let { socket } = await connect();
        let expectingDrop = false;
        const watch = (s: Socket): void => {
          s.on('disconnect', (reason) => {
            if (!expectingDrop) {
              findings.push({ event: '(socket)', what: `unexpected disconnect: ${reason}` });
            }
          });
        };
        watch(socket);
        try {
          for (;;) {
            if (remaining-- <= 0) {
              return;
            }
            const pick = r();
            const known = pick < 0.85;
            const names = Object.keys(EVENTS);
            const event = known ? oneOf(r, names) : pick < 0.93 ? oneOf(r, UNKNOWN_EVENTS) : String(nastyValue(r));
            if (
              ['connect', 'disconnect', 'disconnecting', 'connect_error', 'newListener', 'removeListener'].includes(
                event,
              )
            ) {
              continue;
            } // reserved by the client library
            const fields = (Object.hasOwn(EVENTS, event) ? EVENTS[event] : undefined) ?? ['message'];

            if (r() < 0.03) {
              // Over SOCKET_MAX_PAYLOAD_BYTES: the server drops the connection (documented); reconnect.
              expectingDrop = true;
              const dropped = new Promise<string>((resolve) => socket.once('disconnect', resolve));
              socket.emit(event, { [fields[0] ?? 'message']: 'x'.repeat(MAX_PAYLOAD + 1024) });
              let timer: NodeJS.Timeout | undefined;
              const reason = await Promise.race([
                dropped,
                new Promise<string>((res) => (timer = setTimeout(() => res('(still connected)'), SOCKET_BOUND_MS))),
              ]);
              clearTimeout(timer);
              if (reason === '(still connected)') {
                findings.push({ event, what: 'oversized payload kept the socket' });
              } else {
                oversizedDisconnects++;
              }
              socket.disconnect();
              ({ socket } = await connect());
              expectingDrop = false;
              watch(socket);
              continue;
            }

            const argc = r();
            const args: unknown[] =
              argc < 0.1 ? [] : argc < 0.2 ? [nastyPayload(r, fields), nastyValue(r)] : [nastyPayload(r, fields)];
            if (!known || r() < 0.3) {
              // No ack: a bad known event is answered with chat:error (checked at the end); an unknown one is ignored.
              socket.emit(event, ...args);
              continue;
            }
            try {
              const ack: unknown = await socket.timeout(SOCKET_BOUND_MS).emitWithAck(event, ...args);
              checkAck(event, ack);
            } catch (err) {
              findings.push({ event, what: `no ack: ${(err as Error).message}` });
            }
          }
        } finally {
          // Still up after all of it: a valid round trip works.
          const ack: unknown = await socket
            .timeout(SOCKET_BOUND_MS)
            .emitWithAck('session:leave', { session_id: randomUUID() })
            .catch((err: Error) => ({ failed: err.message }));
          if ((ack as { ok?: unknown }).ok !== true) {
            findings.push({ event: 'session:leave', what: JSON.stringify(ack) });
          }
          expectingDrop = true;
          socket.disconnect();
        }
      };
      let remaining = cases;
      await Promise.all(Array.from({ length: 4 }, worker));

      for (const e of eventErrors) {
        checkAck(String(e.event), { ok: false, error: e });
      }
      const rssAfter = await rssBytes(gateway);
      const rest = await fetch(`${gateway.url}/v1/patients?limit=5`, { headers: { authorization: `Bearer ${token}` } });
      const internal = gateway.logs().filter((l) => l.level === 'error' || l.level === 'fatal');

      expect(findings).toEqual([]);
      expect(internal).toEqual([]);
      expect(rest.status).toBe(200);
      expect((await fetch(`${gateway.url}/health/ready`)).status).toBe(200);
      expect(gateway.running && agent.running).toBe(true);
      expect(oversizedDisconnects).toBeGreaterThan(0);
      // The pass reached the handlers (not only the transport): both answers were exercised.
      expect(eventErrors.length).toBeGreaterThan(0);
      expect(acks.invalid_payload).toBeGreaterThan(0);
      console.log(
        `socket fuzz: ${cases} cases, acks ${JSON.stringify(acks)}, chat:error ${eventErrors.length}, oversized drops ${oversizedDisconnects}`,
      );
      // Caches and JIT grow the heap a little; a leak per event would exceed this by far.
      expect(rssAfter - rssBefore).toBeLessThan(150 * 1024 * 1024);
    },
    scaled(60_000, 900_000),
  );
});

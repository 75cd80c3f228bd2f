import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import {
  type AgentBus,
  agentBus,
  type AgentChatRequest,
  agentWire,
  DEV_RUN_GRANT_PRIVATE_JWK,
  ensureAgentStreams,
  followRunLog,
  importGrantKey,
  NATS_HEADERS,
  removeAgentStreams,
  type RunEvent,
  signRunGrant,
} from '@neonpro/contracts';
import { NATS_URL } from './ports.js';

// A test peer of the agent bus, speaking the same codec as the gateway (never a second copy).

export async function provisionAgentStreams(nc: NatsConnection, bus: AgentBus, ackWaitMs = 10000): Promise<void> {
  await ensureAgentStreams(await jetstreamManager(nc), bus, { ackWaitMs, maxDeliver: 3, eventsStorage: 'memory' });
}

/** Deletes the streams of a test's own prefix (never anyone else's). */
export async function deleteAgentStreams(nc: NatsConnection, bus: AgentBus): Promise<void> {
  await removeAgentStreams(await jetstreamManager(nc), bus);
}

/**
 * Deletes the agent streams of a prefix whose services made them (agents and gateways create
 * them at start), on a connection of its own. For a suite's afterAll, once its processes are
 * stopped: streams left behind stay on the shared NATS server, and their messages expiring 15
 * minutes later cost it CPU during whatever runs then (docs/performance.md, "Ninth pass").
 */
export async function deletePrefixStreams(prefix: string, servers: string = NATS_URL): Promise<void> {
  const nc = await connect({ servers });
  try {
    await deleteAgentStreams(nc, agentBus(prefix));
  } finally {
    await nc.close();
  }
}

export function chatRequest(message: string, extra: Partial<AgentChatRequest> = {}): AgentChatRequest {
  return { session_id: randomUUID(), message_id: randomUUID(), message, ...extra };
}

/** A grant signed with the development key, as the gateway would sign it. */
export function devGrant(userId: string, r: AgentChatRequest, ttlS = 600): string {
  const key = importGrantKey(DEV_RUN_GRANT_PRIVATE_JWK, 'sign');
  return signRunGrant(key, { userId, messageId: r.message_id, sessionId: r.session_id, message: r.message }, ttlS);
}

/**
 * Queues a run the way the gateway does: `accepted` then the run, with the grant header (`grant:
 * null` sends none). `body` replaces the encoded request (malformed-input tests).
 */
export async function queueRun(
  nc: NatsConnection,
  bus: AgentBus,
  r: AgentChatRequest,
  opts: { userId: string; grant?: string | null; body?: string | Uint8Array },
): Promise<void> {
  const js = jetstream(nc);
  await js.publish(
    bus.events(r.message_id),
    agentWire.encodeEvent({ type: 'accepted', seq: 0, user_id: opts.userId, session_id: r.session_id }),
  );
  const h = headers();
  h.set(NATS_HEADERS.requestId, `it-${r.message_id.slice(0, 8)}`);
  const grant = opts.grant === undefined ? devGrant(opts.userId, r) : opts.grant;
  if (grant !== null) {
    h.set(NATS_HEADERS.grant, grant);
  }
  await js.publish(bus.chat, opts.body ?? agentWire.encodeRunRequest(r), { headers: h, msgID: r.message_id });
}

/** The run's events (after `accepted`) until done or error; rejects after `timeoutMs`. */
export async function runEvents(
  nc: NatsConnection,
  bus: AgentBus,
  messageId: string,
  timeoutMs = 15000,
): Promise<RunEvent[]> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  const out: RunEvent[] = [];
  try {
    for await (const e of followRunLog(jetstream(nc), bus, messageId, { signal: abort.signal })) {
      if (e.type !== 'accepted') {
        out.push(e);
      }
    }
  } finally {
    clearTimeout(timer);
  }
  if (abort.signal.aborted) {
    throw new Error(`run ${messageId} did not end within ${timeoutMs} ms`);
  }
  return out;
}

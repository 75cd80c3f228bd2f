import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { agentWire } from './agent-wire.js';
import type { RunEvent } from './chat.schema.js';
import type { AgentBus } from './subjects.js';

const isTerminal = (e: RunEvent): boolean => e.type === 'done' || e.type === 'error';

/**
 * Follows one run's event log from the start (replaying what is stored, then live) until its
 * terminal event, through an ordered consumer; used to reattach and to resume after a crash.
 * Events that fail the contract go to `onInvalid` (which may throw to end the read) and are skipped.
 */
export async function* followRunLog(
  js: JetStreamClient,
  bus: AgentBus,
  messageId: string,
  opts: { signal?: AbortSignal; onInvalid?: () => void } = {},
): AsyncGenerator<RunEvent, void, undefined> {
  const consumer = await js.consumers.get(bus.eventsStream, { filter_subjects: bus.events(messageId) });
  const messages = await consumer.consume();
  const stop = (): void => void messages.stop();
  opts.signal?.addEventListener('abort', stop, { once: true });
  try {
    for await (const m of messages) {
      const decoded = agentWire.decodeEvent(m.data);
      if (!decoded.ok) {
        opts.onInvalid?.();
        continue;
      }
      yield decoded.value;
      if (isTerminal(decoded.value)) {
        return;
      }
    }
  } finally {
    opts.signal?.removeEventListener('abort', stop);
    stop();
  }
}

/** What is stored for a run right now (no waiting): [] when it has no events. */
export async function readRunLog(
  jsm: JetStreamManager,
  js: JetStreamClient,
  bus: AgentBus,
  messageId: string,
): Promise<RunEvent[]> {
  const last = await jsm.streams
    .getMessage(bus.eventsStream, { last_by_subj: bus.events(messageId) })
    .catch(() => null);
  if (!last) {
    return [];
  }
  const out: RunEvent[] = [];
  const consumer = await js.consumers.get(bus.eventsStream, { filter_subjects: bus.events(messageId) });
  const messages = await consumer.consume();
  try {
    for await (const m of messages) {
      const decoded = agentWire.decodeEvent(m.data);
      if (decoded.ok) {
        out.push(decoded.value);
      }
      if (m.seq >= last.seq) {
        break;
      }
    }
  } finally {
    void messages.stop();
  }
  return out;
}

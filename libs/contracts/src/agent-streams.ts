import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { type AgentBus, AGENT_EVENTS_MAX_AGE_MS } from './subjects.js';

export interface AgentStreamOptions {
  /** Redelivery delay of an unacked run (its agent died). */
  ackWaitMs: number;
  /** Attempts of a run; the consumer allows one more delivery, used to report the failure. */
  maxDeliver: number;
  eventsStorage: 'memory' | 'file';
}

/**
 * Creates (or brings up to date) the two streams and the shared consumer. Idempotent and safe
 * from several replicas at once; deployments that provision them elsewhere turn it off
 * (NATS_PROVISION_STREAMS=false) and give the services no JetStream admin permission.
 */
export async function ensureAgentStreams(
  jsm: JetStreamManager,
  bus: AgentBus,
  opts: AgentStreamOptions,
): Promise<void> {
  await upsertStream(jsm, bus.runsStream, {
    subjects: [bus.runsSubjects],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    // Runs nobody took within an hour are stale; the gateway gave up long before.
    max_age: nanos(60 * 60 * 1000),
    // js.publish with msgID = message_id: a resent publish is stored once.
    duplicate_window: nanos(2 * 60 * 1000),
  });
  await upsertStream(jsm, bus.eventsStream, {
    subjects: [bus.eventsSubjects],
    retention: RetentionPolicy.Limits,
    storage: opts.eventsStorage === 'file' ? StorageType.File : StorageType.Memory,
    discard: DiscardPolicy.Old,
    max_age: nanos(AGENT_EVENTS_MAX_AGE_MS),
  });
  const consumer = {
    durable_name: bus.consumer,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(opts.ackWaitMs),
    max_deliver: opts.maxDeliver + 1,
    filter_subject: bus.runsSubjects,
  };
  try {
    await jsm.consumers.add(bus.runsStream, consumer);
  } catch {
    const { durable_name: _name, deliver_policy: _deliver, filter_subject: _filter, ...mutable } = consumer;
    await jsm.consumers.update(bus.runsStream, bus.consumer, mutable);
  }
}

/**
 * Deletes the two streams (and with them the consumer) of one bus: for tests and benchmarks that
 * ran services on a prefix of their own. Missing streams are not an error.
 */
export async function removeAgentStreams(jsm: JetStreamManager, bus: AgentBus): Promise<void> {
  await jsm.streams.delete(bus.runsStream).catch(() => undefined);
  await jsm.streams.delete(bus.eventsStream).catch(() => undefined);
}

async function upsertStream(
  jsm: JetStreamManager,
  name: string,
  cfg: Omit<Parameters<JetStreamManager['streams']['add']>[0], 'name'>,
): Promise<void> {
  try {
    await jsm.streams.add({ name, ...cfg });
  } catch {
    // Exists with another config (or a replica raced us): align what may change.
    const { storage: _storage, retention: _retention, ...mutable } = cfg;
    await jsm.streams.update(name, mutable);
  }
}

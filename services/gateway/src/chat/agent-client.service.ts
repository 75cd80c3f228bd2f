import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { MsgRequest } from '@nats-io/jetstream';
import { headers as natsHeaders, type Subscription } from '@nats-io/transport-node';
import {
  type AgentBus,
  agentBus,
  type AgentChatRequest,
  agentWire,
  followRunLog,
  type GrantKey,
  importGrantKey,
  NATS_HEADERS,
  type RelayedRunEvent,
  type RunAcceptedEvent,
  runAcceptedEventSchema,
  type RunEvent,
  signRunGrant,
} from '@neonpro/contracts';
import { GATEWAY_CONFIG, type GatewayRuntimeConfig } from '../gateway.config.js';
import type { UpstreamFailureAware } from '../resilience/gateway-policies.js';
import { GatewayMetrics } from '../metrics/gateway-metrics.service.js';
import { NatsConnectionService } from '../nats/nats-connection.service.js';

export type AgentCallFailure = 'no_responders' | 'overloaded' | 'timeout' | 'disconnected' | 'protocol';

export class AgentCallError extends Error implements UpstreamFailureAware {
  constructor(
    readonly kind: AgentCallFailure,
    message: string,
  ) {
    super(message);
    this.name = 'AgentCallError';
  }

  /** A reply the agent sent (even a malformed one) is an answer, not an outage. */
  get upstreamFailure(): boolean {
    return this.kind !== 'protocol';
  }
}

export interface AgentCallContext {
  /** The gateway's own request id (audit rows and logs in the agent). */
  requestId: string;
  /** The client's X-Request-Id, sanitised: logged and kept as an audit detail only. */
  clientRequestId?: string;
  traceparent?: string;
  /** The verified caller; the run grant names this user (the agent reads clinic and role itself). */
  userId: string;
}

/** How often a live follow with no news checks the stored log for events it missed. */
const LIVE_PROBE_MS = 1000;

const FOLLOW_ENDED = new Error('follow ended');

/**
 * Unsubscribes unless the subscription is closed already. nats-core writes an UNSUB on every
 * `unsubscribe()` call, and its iterator sends one itself when a loop over it returns: a turn's
 * three calls (the iterator, `followLive`, `events`) were three UNSUBs in two socket writes.
 */
function unsubscribeOnce(sub: Subscription): void {
  if (!sub.isClosed()) {
    sub.unsubscribe();
  }
}

/** A core NATS subscription to one run's event subject, made before the run is queued. */
export interface LiveRun {
  readonly sub: Subscription;
}

interface Admission {
  at: number;
  agents: boolean;
  pending: number;
}

/**
 * The gateway's side of the agent bus: admission (cluster queue depth and agent presence, read
 * from NATS and cached for AGENT_ADMISSION_CACHE_MS), publishing runs to the AGENT_RUNS work
 * queue with a signed grant, and following a run's event log (live or replayed) from any replica.
 */
@Injectable()
export class AgentClient implements OnModuleInit {
  readonly bus: AgentBus;
  private grantKey?: GrantKey;
  private admission?: Admission;
  private admissionInFlight?: Promise<Admission>;

  constructor(
    private readonly nats: NatsConnectionService,
    private readonly metrics: GatewayMetrics,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayRuntimeConfig,
  ) {
    this.bus = agentBus(config.NATS_SUBJECT_PREFIX);
  }

  onModuleInit(): void {
    // Once, at boot; the config schema has already refused a key that cannot be read.
    this.grantKey = importGrantKey(this.config.AGENT_GRANT_PRIVATE_KEY, 'sign');
    this.metrics.agentQueueDepth.set(0);
  }

  private connected(): void {
    if (!this.nats.isConnected()) {
      throw new AgentCallError('disconnected', 'The message bus is not connected.');
    }
  }

  /**
   * Refuses at once when no agent is alive (no presence reply: NATS no-responders) or when the
   * cluster queue is past AGENT_QUEUE_MAX_PENDING. One NATS lookup per cache period per replica.
   */
  async admit(): Promise<void> {
    this.connected();
    const now = Date.now();
    let a = this.admission;
    // "No agent" is never reused: the next chat asks again (a no-responders reply is immediate).
    if (!a || !a.agents || now - a.at >= this.config.AGENT_ADMISSION_CACHE_MS) {
      this.admissionInFlight ??= this.readAdmission().finally(() => (this.admissionInFlight = undefined));
      a = await this.admissionInFlight;
      this.admission = a;
    }
    if (!a.agents) {
      throw new AgentCallError('no_responders', 'No assistant is available right now.');
    }
    if (a.pending >= this.config.AGENT_QUEUE_MAX_PENDING) {
      throw new AgentCallError('overloaded', 'The assistants are at capacity; retry shortly.');
    }
  }

  private async readAdmission(): Promise<Admission> {
    const nc = this.nats.connection;
    const [agents, pending] = await Promise.all([
      nc.request(this.bus.presence, undefined, { timeout: 1000 }).then(
        (m) => agentWire.decodePresence(m.data).ok,
        () => false,
      ),
      this.queueDepth(),
    ]);
    return { at: Date.now(), agents, pending: pending ?? 0 };
  }

  /** The shared consumer's pending count: the same number on every replica and in NATS. */
  async queueDepth(): Promise<number | undefined> {
    try {
      const info = await (await this.nats.jsm()).consumers.info(this.bus.runsStream, this.bus.consumer);
      this.metrics.agentQueueDepth.set(info.num_pending);
      return info.num_pending;
    } catch {
      return undefined;
    }
  }

  /**
   * Listens to the run's events (see `listen`), records the owner (`accepted`, seq 0) and queues
   * the run. The run's message id is its JetStream msgID, so a resent publish is stored once.
   * Returns the subscription for `events`; it is released here if the run could not be queued.
   */
  async start(request: AgentChatRequest, ctx: AgentCallContext): Promise<LiveRun> {
    this.connected();
    const js = this.nats.js;
    const accepted: RunAcceptedEvent = {
      type: 'accepted',
      seq: 0,
      user_id: ctx.userId,
      session_id: request.session_id,
      ...(request.client_message_id ? { client_message_id: request.client_message_id } : {}),
    };
    const grant = signRunGrant(
      this.grantKey!,
      { userId: ctx.userId, messageId: request.message_id, sessionId: request.session_id, message: request.message },
      this.config.AGENT_GRANT_TTL_S,
    );
    const hdrs = natsHeaders();
    hdrs.set(NATS_HEADERS.requestId, ctx.requestId);
    if (ctx.clientRequestId) {
      hdrs.set(NATS_HEADERS.clientRequestId, ctx.clientRequestId);
    }
    if (ctx.traceparent) {
      hdrs.set(NATS_HEADERS.traceparent, ctx.traceparent);
    }
    hdrs.set(NATS_HEADERS.grant, grant);
    // Subscribed before the run is queued, so no event can be published unheard; in the same tick
    // as the two publishes, so the client sends SUB and both PUBs in one socket write.
    this.connected();
    const live = this.listen(request.message_id);
    try {
      // Both go out back to back on one connection and are acked together: one round trip. The
      // owner record is ordered first (the agent writes nothing before it has pulled the run).
      await Promise.all([
        js.publish(this.bus.events(request.message_id), agentWire.encodeEvent(accepted)),
        js.publish(this.bus.chat, agentWire.encodeRunRequest(request), {
          msgID: request.message_id,
          headers: hdrs,
        }),
      ]);
    } catch {
      this.release(live);
      throw new AgentCallError('disconnected', 'The run could not be queued.');
    }
    if (this.admission) {
      this.admission.pending++;
    }
    return live;
  }

  /** Who started a run (undefined when unknown or expired from the log). */
  async owner(messageId: string): Promise<RunAcceptedEvent | undefined> {
    this.connected();
    try {
      const jsm = await this.nats.jsm();
      // STREAM.MSG.GET takes next_by_subj (the run's first event) though the client types only seq/last.
      const first = { next_by_subj: this.bus.events(messageId), seq: 0 } as unknown as MsgRequest;
      const m = await jsm.streams.getMessage(this.bus.eventsStream, first);
      if (!m) {
        return undefined;
      }
      const decoded = agentWire.decodeEvent(m.data);
      return decoded.ok && decoded.value.type === 'accepted' ? runAcceptedEventSchema.parse(decoded.value) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Whether the run's log already ends with done or error (nothing left to cancel). */
  async finished(messageId: string): Promise<boolean> {
    const last = await this.storedLast(messageId);
    return last?.type === 'done' || last?.type === 'error';
  }

  /** The last event stored for a run (undefined when none or unreadable). */
  private async storedLast(messageId: string): Promise<RunEvent | undefined> {
    try {
      const jsm = await this.nats.jsm();
      const m = await jsm.streams.getMessage(this.bus.eventsStream, { last_by_subj: this.bus.events(messageId) });
      const decoded = m ? agentWire.decodeEvent(m.data) : undefined;
      return decoded?.ok ? decoded.value : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Listens to a run's event subject (core NATS) before it is queued (`start` does): messages a
   * stream stores are also delivered to the subject's core subscribers, so a fresh turn needs no
   * JetStream consumer. Pass it to `events`; it is released when that ends (or by `release`).
   */
  private listen(messageId: string): LiveRun {
    return { sub: this.nats.connection.subscribe(this.bus.events(messageId)) };
  }

  release(live: LiveRun | undefined): void {
    if (live) {
      unsubscribeOnce(live.sub);
    }
  }

  /**
   * The run's events after `after` (0 = all), live, until `done` or `error`. Silence longer
   * than AGENT_TIMEOUT_MS ends it with a timeout (the caller cancels the run). With `live`
   * (a fresh turn), events come from the core subscription and the stored log is read only to
   * fill a gap in `seq`; without it (reattach, resume), from the stored log.
   */
  async *events(messageId: string, after = 0, live?: LiveRun): AsyncGenerator<RelayedRunEvent, void, undefined> {
    this.connected();
    const abort = new AbortController();
    const started = performance.now();
    let first = true;
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        abort.abort();
      }, this.config.AGENT_TIMEOUT_MS);
    };
    arm();
    try {
      const onInvalid = (): never => {
        this.metrics.natsRequests.inc({ outcome: 'protocol' });
        throw new AgentCallError('protocol', 'The assistant sent an invalid event.');
      };
      const log = live
        ? this.followLive(messageId, live, abort.signal, onInvalid)
        : followRunLog(this.nats.js, this.bus, messageId, { signal: abort.signal, onInvalid });
      for await (const e of log) {
        arm();
        if (e.type === 'accepted' || e.seq <= after) {
          continue;
        }
        if (first) {
          first = false;
          this.metrics.natsFirstEvent.observe((performance.now() - started) / 1000);
        }
        if (e.type === 'done' || e.type === 'error') {
          this.metrics.natsRequests.inc({ outcome: e.type === 'done' ? 'ok' : 'agent_error' });
        }
        yield e;
      }
      if (timedOut) {
        throw new AgentCallError('timeout', 'The assistant did not answer in time.');
      }
    } catch (err) {
      if (timedOut) {
        this.metrics.natsRequests.inc({ outcome: 'timeout' });
        throw new AgentCallError('timeout', 'The assistant did not answer in time.');
      }
      if (err instanceof AgentCallError) {
        throw err;
      }
      throw new AgentCallError('disconnected', 'The event log could not be read.');
    } finally {
      clearTimeout(timer);
      // A given reason: abort() without one builds a DOMException (with a stack) on every turn.
      abort.abort(FOLLOW_ENDED);
      this.release(live);
    }
  }

  /**
   * Events from the core subscription, in `seq` order from 0. A jump in `seq` (a message lost
   * while the connection was down), the subscription ending or failing, or a stored event the subscription
   * never delivered (checked after LIVE_PROBE_MS of silence) switches to the stored log, read
   * from the start, skipping what was already relayed; a repeated `seq` is dropped.
   */
  private async *followLive(
    messageId: string,
    live: LiveRun,
    signal: AbortSignal,
    onInvalid: () => never,
  ): AsyncGenerator<RunEvent, void, undefined> {
    let next = 0;
    let lastNews = performance.now();
    const stop = (): void => unsubscribeOnce(live.sub);
    signal.addEventListener('abort', stop, { once: true });
    const probe = setInterval(() => {
      if (performance.now() - lastNews < LIVE_PROBE_MS) {
        return;
      }
      lastNews = performance.now();
      void this.storedLast(messageId).then((last) => {
        if (last && last.seq >= next) {
          stop(); // ends the loop below; the stored log fills the gap
        }
      });
    }, LIVE_PROBE_MS);
    probe.unref();
    try {
      for await (const m of live.sub) {
        lastNews = performance.now();
        const decoded = agentWire.decodeEvent(m.data);
        if (!decoded.ok) {
          onInvalid();
          continue;
        }
        const e = decoded.value;
        if (e.seq < next) {
          continue;
        }
        if (e.seq > next) {
          break;
        }
        next = e.seq + 1;
        yield e;
        if (e.type === 'done' || e.type === 'error') {
          return;
        }
      }
    } catch (err) {
      // An invalid event ends the relay; a failed subscription (e.g. a NATS user without
      // subscribe permission on agent.events.>) falls back to the stored log below.
      if (err instanceof AgentCallError) {
        throw err;
      }
    } finally {
      clearInterval(probe);
      signal.removeEventListener('abort', stop);
      stop();
    }
    if (signal.aborted) {
      return;
    }
    this.metrics.natsLiveGaps.inc();
    for await (const e of followRunLog(this.nats.js, this.bus, messageId, { signal, onInvalid })) {
      if (e.seq >= next) {
        next = e.seq + 1;
        yield e;
      }
    }
  }

  /** Tells every agent to abort (or skip, if still queued) a run, whichever replica owns it. */
  cancel(messageId: string): void {
    this.connected();
    this.nats.connection.publish(this.bus.cancel, agentWire.encodeCancel({ message_id: messageId }));
  }
}

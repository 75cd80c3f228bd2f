import type { CustomTransportStrategy } from '@nestjs/microservices';
import { type MessageHandler, Server } from '@nestjs/microservices';
import {
  type Consumer,
  type ConsumerMessages,
  type JetStreamClient,
  jetstream,
  jetstreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { natsConnectionOptions, type NatsSettings } from '@neonpro/config';
import {
  AGENT_PATTERNS,
  type AgentBus,
  type AgentChatRequest,
  type AgentEvent,
  agentWire,
  ensureAgentStreams,
  ErrorCode,
  readRunLog,
  type RunEvent,
} from '@neonpro/contracts';
import type { Observable } from 'rxjs';
import { z } from 'zod';
import { JetStreamRunContext } from './jetstream-run.context.js';
import { RunEventSequencer, streamedText } from './run-event-sequencer.js';

export interface JetStreamAgentServerOptions {
  nats: NatsSettings;
  bus: AgentBus;
  name: string;
  instance: string;
  concurrency: number;
  ackWaitMs: number;
  maxDeliver: number;
  provision: boolean;
  eventsStorage: 'memory' | 'file';
  tokenFlushMs: number;
  tokenFlushBytes: number;
  /** Invalid bus messages (counted by the agent's metrics). */
  onInvalid?: () => void;
  onSlots?: (running: number) => void;
}

/**
 * Runs one decoded, validated run: its events, ending with `done` or `error`. Called directly, not
 * through Nest's RPC pipeline: its context, RxJS wrapping and the logging hook's three child
 * loggers were about 15 % of the agent's CPU per turn (docs/performance.md, chat, "Sixteenth pass").
 */
export type RunHandler = (request: AgentChatRequest, ctx: JetStreamRunContext) => Observable<AgentEvent>;

/** Cancels heard for runs not (yet) running here are kept this long, for runs still queued. */
const CANCEL_MEMORY_MS = 15 * 60 * 1000;
const looseRunId = z.object({ message_id: z.uuid() });

/**
 * Nest transport over JetStream for the agents. Runs come from the AGENT_RUNS work queue through
 * the durable pull consumer shared by every replica; a replica pulls only as many runs as it has
 * free slots (AGENT_CONCURRENCY), so a run never waits on a busy replica while another is idle.
 * While a handler works, the run is kept alive with in-progress acks; it is acked once its
 * terminal event is stored, so a replica that dies leaves it to be redelivered (after the ack
 * wait) to another one, which resumes the event log where it stopped. The run handler's events
 * (`handleRunsWith`) become the run's numbered, replayable log on `agent.events.<id>`.
 * Cancel (core broadcast, to Nest's `@EventPattern` handler) and presence (core request) are
 * plain NATS subscriptions.
 */
export class JetStreamAgentServer extends Server implements CustomTransportStrategy {
  private nc?: NatsConnection;
  private js?: JetStreamClient;
  private consumer?: Consumer;
  private batch?: ConsumerMessages;
  private presenceSub?: Subscription;
  private cancelSub?: Subscription;
  private accepting = false;
  private running = 0;
  private wakeSlot?: () => void;
  private readonly cancelled = new Map<string, number>();
  private readonly handlers = new Map<string, MessageHandler>();
  private runs?: RunHandler;
  private connected = false;

  constructor(private readonly opts: JetStreamAgentServerOptions) {
    super();
  }

  /** The handler every run goes to; `startAgent` sets it before the transport listens. */
  handleRunsWith(handler: RunHandler): void {
    this.runs = handler;
  }

  on(): never {
    throw new Error('JetStreamAgentServer does not emit events');
  }

  unwrap<T>(): T {
    if (!this.nc) {
      throw new Error('not connected');
    }
    return this.nc as T;
  }

  async listen(callback: (err?: unknown) => void): Promise<void> {
    try {
      // No async stack traces: the client would build an Error (with its stack) for every
      // request, i.e. every stored event's PubAck, and nothing here logs a stack.
      const nc = await connect(natsConnectionOptions(this.opts.nats, this.opts.name));
      this.nc = nc;
      this.connected = true;
      void this.watch(nc);
      const { bus } = this.opts;
      if (this.opts.provision) {
        await ensureAgentStreams(await jetstreamManager(nc), bus, {
          ackWaitMs: this.opts.ackWaitMs,
          maxDeliver: this.opts.maxDeliver,
          eventsStorage: this.opts.eventsStorage,
        });
      }
      this.js = jetstream(nc);
      this.consumer = await this.js.consumers.get(bus.runsStream, bus.consumer);
      this.cancelSub = nc.subscribe(bus.cancel, { callback: (_err, m) => this.onCancel(m.data) });
      this.presenceSub = nc.subscribe(bus.presence, {
        callback: (_err, m) => {
          if (this.accepting) {
            m.respond(
              agentWire.encodePresence({
                instance: this.opts.instance,
                free_slots: Math.max(0, this.opts.concurrency - this.running),
              }),
            );
          }
        },
      });
      this.accepting = true;
      void this.pullLoop();
      callback();
    } catch (err) {
      callback(err);
    }
  }

  private async watch(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        this.connected = false;
      } else if (s.type === 'reconnect') {
        this.connected = true;
      }
    }
  }

  isConnected(): boolean {
    return this.connected && this.nc !== undefined && !this.nc.isClosed();
  }

  /** Runs waiting in AGENT_RUNS for any replica (the consumer's pending count; KEDA adds ack-pending). */
  async queueDepth(): Promise<number | undefined> {
    if (!this.consumer || !this.isConnected()) {
      return undefined;
    }
    const info = await this.consumer.info(false).catch(() => undefined);
    return info?.num_pending;
  }

  get inflight(): number {
    return this.running;
  }

  /** Pulls exactly as many runs as there are free slots; nothing is pulled while all are busy. */
  private async pullLoop(): Promise<void> {
    while (this.accepting) {
      const free = this.opts.concurrency - this.running;
      if (free <= 0) {
        await new Promise<void>((resolve) => (this.wakeSlot = resolve));
        continue;
      }
      try {
        // The reservation is the batch size: every message of this fetch has a slot.
        this.batch = await this.consumer!.fetch({ max_messages: free, expires: 5000 });
        for await (const m of this.batch) {
          this.running++;
          this.opts.onSlots?.(this.running);
          void this.handleRun(m)
            .catch((err: unknown) => {
              // Typically the connection went away mid-run: the run is redelivered after the ack wait.
              this.logger.warn?.(`run handling failed: ${err instanceof Error ? err.name : typeof err}`);
            })
            .finally(() => {
              this.running--;
              this.opts.onSlots?.(this.running);
              this.wakeSlot?.();
              this.wakeSlot = undefined;
            });
        }
      } catch (err) {
        if (!this.accepting) {
          return;
        }
        this.logger.warn?.(`pull failed: ${err instanceof Error ? err.message : String(err)}`);
        await new Promise((r) => setTimeout(r, 1000));
      } finally {
        this.batch = undefined;
      }
    }
  }

  private onCancel(data: Uint8Array): void {
    const decoded = agentWire.decodeCancel(data);
    if (!decoded.ok) {
      return this.opts.onInvalid?.();
    }
    const id = decoded.value.message_id;
    const now = Date.now();
    for (const [k, at] of this.cancelled) {
      if (at < now - CANCEL_MEMORY_MS) {
        this.cancelled.delete(k);
      }
    }
    this.cancelled.set(id, now);
    const handler = this.handlerOf(AGENT_PATTERNS.cancel);
    if (!handler) {
      return;
    }
    // Nest's handler pipeline is lazy (interceptors): it runs when its result is subscribed to.
    void Promise.resolve(handler(decoded.value, new JetStreamRunContext([undefined, 1, this.opts.bus.cancel]))).then(
      (result) => this.transformToObservable(result).subscribe({ error: () => undefined }),
      () => undefined,
    );
  }

  private async handleRun(m: JsMsg): Promise<void> {
    const { bus } = this.opts;
    const heartbeat = setInterval(() => m.working(), Math.max(500, Math.floor(this.opts.ackWaitMs / 3)));
    try {
      const decoded = agentWire.decodeRunRequest(m.data);
      if (!decoded.ok) {
        this.opts.onInvalid?.();
        // Answer on the run's log when its id is readable, so the caller learns why.
        let id: string | undefined;
        try {
          id = looseRunId.parse(JSON.parse(new TextDecoder().decode(m.data))).message_id;
        } catch {
          id = undefined;
        }
        if (id) {
          await this.publishOne(id, 0, { type: 'error', code: ErrorCode.InvalidMessage, message: decoded.error });
        }
        m.term('invalid run request');
        return;
      }
      const request = decoded.value;
      const id = request.message_id;
      const deliveries = m.info.deliveryCount;
      const previous =
        deliveries > 1
          ? await readRunLog(await jetstreamManager(this.nc!, { checkAPI: false }), this.js!, bus, id)
          : [];
      if (previous.some((e) => e.type === 'done' || e.type === 'error')) {
        m.ack(); // the crashed attempt finished its log but died before acking
        return;
      }
      const lastSeq = previous.at(-1)?.seq ?? 0;
      if (deliveries > this.opts.maxDeliver) {
        await this.publishOne(id, lastSeq, {
          type: 'error',
          code: ErrorCode.AgentFailed,
          message: `The assistant failed ${this.opts.maxDeliver} times on this message; send it again.`,
        });
        m.term('max deliveries');
        return;
      }
      if (this.cancelled.has(id)) {
        await this.publishOne(id, lastSeq, {
          type: 'error',
          code: ErrorCode.Cancelled,
          message: 'The run was cancelled.',
        });
        m.ack();
        return;
      }
      await this.runHandler(m, request, id, deliveries, lastSeq, streamedText(previous));
    } finally {
      clearInterval(heartbeat);
    }
  }

  private async runHandler(
    m: JsMsg,
    request: AgentChatRequest,
    id: string,
    deliveries: number,
    lastSeq: number,
    alreadyStreamed: string,
  ): Promise<void> {
    const subject = this.opts.bus.events(id);
    const nc = this.nc!;
    let stored: Promise<unknown> = Promise.resolve();
    const sequencer = new RunEventSequencer({
      lastSeq,
      alreadyStreamed,
      flushMs: this.opts.tokenFlushMs,
      flushBytes: this.opts.tokenFlushBytes,
      // Core publishes keep the stream order; the terminal one waits for the stream's ack.
      publish: (e) => {
        if (e.type === 'done' || e.type === 'error') {
          stored = this.js!.publish(subject, agentWire.encodeEvent(e));
          stored.catch(() => undefined);
        } else if (!nc.isClosed()) {
          nc.publish(subject, agentWire.encodeEvent(e));
        }
      },
    });
    const handle = this.runs;
    if (!handle) {
      throw new Error('no run handler (handleRunsWith)');
    }
    const ctx = new JetStreamRunContext([m.headers, deliveries, m.subject]);
    const failed = (): void =>
      sequencer.push({ type: 'error', code: ErrorCode.AgentFailed, message: 'The assistant could not answer.' });
    await new Promise<void>((resolve) => {
      try {
        // The handler ends the run itself on cancel (RunRegistry), with a `cancelled` event.
        handle(request, ctx).subscribe({
          next: (e) => sequencer.push(e),
          error: () => {
            failed();
            resolve();
          },
          complete: () => {
            if (!sequencer.isEnded) {
              sequencer.push({
                type: 'error',
                code: ErrorCode.AgentFailed,
                message: 'The run ended without an answer.',
              });
            }
            resolve();
          },
        });
      } catch {
        failed();
        resolve();
      }
    });
    // Every event went out on this connection in order; once the terminal one is stored, ack the run.
    await stored;
    m.ack();
  }

  /**
   * Nest's handler for a pattern, looked up once: `getHandlerByPattern` first tries the pattern as
   * JSON, which throws (and builds an Error) for our plain subjects, on every run.
   */
  private handlerOf(pattern: string): MessageHandler | null {
    let handler = this.handlers.get(pattern);
    if (!handler) {
      handler = this.getHandlerByPattern(pattern) ?? undefined;
      if (handler) {
        this.handlers.set(pattern, handler);
      }
    }
    return handler ?? null;
  }

  /** One terminal event, stored (PubAck) before the run is acked. */
  private async publishOne(id: string, lastSeq: number, event: AgentEvent): Promise<void> {
    const e = { ...event, seq: lastSeq + 1 } as RunEvent;
    await this.js!.publish(this.opts.bus.events(id), agentWire.encodeEvent(e));
  }

  /** Stops pulling (SIGTERM): runs held finish; queued ones stay for other replicas. */
  stopAccepting(): void {
    this.accepting = false;
    this.presenceSub?.unsubscribe();
    this.presenceSub = undefined;
    void this.batch?.stop();
    this.wakeSlot?.();
  }

  get isAccepting(): boolean {
    return this.accepting;
  }

  async close(): Promise<void> {
    this.stopAccepting();
    this.cancelSub?.unsubscribe();
    if (this.nc && !this.nc.isClosed()) {
      await this.nc.drain().catch(() => this.nc?.close());
    }
  }
}

import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { createInbox, headers as natsHeaders, type Msg } from '@nats-io/transport-node';
import {
  AGENT_PATTERNS,
  type AgentCallerClaims,
  type AgentChatRequest,
  type AgentEvent,
  agentEventSchema,
  agentSubjects,
  NATS_HEADERS,
} from '@neonpro/contracts';
import { GATEWAY_CONFIG, type GatewayRuntimeConfig } from '../gateway.config.js';
import { GatewayMetrics } from '../metrics/gateway-metrics.service.js';
import { NatsConnectionService } from '../nats/nats-connection.service.js';

export type AgentCallFailure = 'no_responders' | 'timeout' | 'disconnected' | 'protocol';

export class AgentCallError extends Error {
  constructor(
    readonly kind: AgentCallFailure,
    message: string,
  ) {
    super(message);
    this.name = 'AgentCallError';
  }
}

export interface AgentCallContext {
  /** The gateway's own request id (audit rows and logs in the agent). */
  requestId: string;
  /** The client's X-Request-Id, sanitised: logged and kept as an audit detail only. */
  clientRequestId?: string;
  traceparent?: string;
  /** The verified caller; the agent runs every tool as this user (RLS applies). */
  caller: AgentCallerClaims;
}

/** Nest's NATS reply envelope, as sent by the agents' ServerNats. */
interface ReplyPacket {
  id?: string;
  response?: unknown;
  err?: unknown;
  isDisposed?: boolean;
}

type Item = { event: AgentEvent } | { error: AgentCallError } | { end: true };

/**
 * Calls an agent over NATS and yields its streamed events in order. Speaks Nest's request
 * envelope on the wire so the agents stay plain Nest message handlers. Ending the iteration
 * early (client gone) publishes a cancel so the agent stops working for nobody.
 */
@Injectable()
export class AgentClient {
  private readonly subjects;

  constructor(
    private readonly nats: NatsConnectionService,
    private readonly metrics: GatewayMetrics,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayRuntimeConfig,
  ) {
    this.subjects = agentSubjects(config.NATS_SUBJECT_PREFIX);
  }

  async *chat(request: AgentChatRequest, ctx: AgentCallContext): AsyncGenerator<AgentEvent, void, undefined> {
    if (!this.nats.isConnected()) throw new AgentCallError('disconnected', 'The message bus is not connected.');
    const nc = this.nats.connection;
    const inbox = createInbox();
    const queue: Item[] = [];
    let wake: (() => void) | undefined;
    const push = (item: Item): void => {
      queue.push(item);
      wake?.();
    };
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(
        () => push({ error: new AgentCallError('timeout', 'The assistant did not answer in time.') }),
        this.config.AGENT_TIMEOUT_MS,
      );
    };

    const sub = nc.subscribe(inbox, {
      callback: (err, msg) => {
        if (err) return push({ error: new AgentCallError('disconnected', 'The reply subscription failed.') });
        this.onReply(msg, push);
      },
    });
    const hdrs = natsHeaders();
    hdrs.set(NATS_HEADERS.requestId, ctx.requestId);
    if (ctx.clientRequestId) hdrs.set(NATS_HEADERS.clientRequestId, ctx.clientRequestId);
    if (ctx.traceparent) hdrs.set(NATS_HEADERS.traceparent, ctx.traceparent);
    hdrs.set(NATS_HEADERS.claims, JSON.stringify(ctx.caller));
    const started = performance.now();
    let firstEvent = true;
    let finished = false;
    nc.publish(this.subjects.chat, JSON.stringify({ pattern: AGENT_PATTERNS.chat, data: request, id: randomUUID() }), {
      reply: inbox,
      headers: hdrs,
    });
    arm();

    try {
      for (;;) {
        const item = queue.shift();
        if (!item) {
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
          continue;
        }
        if ('error' in item) {
          this.metrics.natsRequests.inc({ outcome: item.error.kind });
          throw item.error;
        }
        if ('end' in item) {
          throw new AgentCallError('protocol', 'The assistant ended the stream without an answer.');
        }
        if (firstEvent) {
          firstEvent = false;
          this.metrics.natsFirstEvent.observe((performance.now() - started) / 1000);
        }
        arm();
        const terminal = item.event.type === 'done' || item.event.type === 'error';
        if (terminal) {
          // Set before yielding: the consumer may stop iterating right after a terminal event.
          finished = true;
          clearTimeout(timer);
          this.metrics.natsRequests.inc({ outcome: item.event.type === 'done' ? 'ok' : 'agent_error' });
        }
        yield item.event;
        if (terminal) return;
      }
    } finally {
      clearTimeout(timer);
      sub.unsubscribe();
      if (!finished && !nc.isClosed()) {
        // The caller stopped listening (or we gave up): free the agent.
        nc.publish(
          this.subjects.cancel,
          JSON.stringify({ pattern: AGENT_PATTERNS.cancel, data: { message_id: request.message_id } }),
        );
      }
    }
  }

  /** Tells the agents to abort a run, whichever replica owns it. */
  cancel(messageId: string): void {
    if (!this.nats.isConnected()) throw new AgentCallError('disconnected', 'The message bus is not connected.');
    this.nats.connection.publish(
      this.subjects.cancel,
      JSON.stringify({ pattern: AGENT_PATTERNS.cancel, data: { message_id: messageId } }),
    );
  }

  private onReply(msg: Msg, push: (item: Item) => void): void {
    if (msg.data.length === 0 && msg.headers?.code === 503) {
      return push({ error: new AgentCallError('no_responders', 'No assistant is available right now.') });
    }
    let packet: ReplyPacket;
    try {
      packet = msg.json<ReplyPacket>();
    } catch {
      return push({ error: new AgentCallError('protocol', 'The assistant sent an unreadable reply.') });
    }
    if (packet.err !== undefined && packet.err !== null) {
      return push({ error: new AgentCallError('protocol', 'The assistant failed to process the request.') });
    }
    if (packet.response !== undefined) {
      const parsed = agentEventSchema.safeParse(packet.response);
      if (!parsed.success)
        return push({ error: new AgentCallError('protocol', 'The assistant sent an invalid event.') });
      push({ event: parsed.data });
    }
    if (packet.isDisposed) push({ end: true });
  }
}

import { randomUUID } from 'node:crypto';
import type { MsgHdrs } from '@nats-io/transport-node';
import { ServerNats } from '@nestjs/microservices';
import { AGENT_QUEUE_GROUP } from '@neonpro/contracts';

/** Marker handed to handlers when a request body is not JSON; they answer with an error event. */
export const MALFORMED_PAYLOAD = Symbol.for('neonpro.malformed-payload');

export interface AgentNatsServerOptions {
  servers: string;
  /** Prepended to every pattern, so environments and test suites can share one NATS. */
  subjectPrefix: string;
  name: string;
}

interface NatsIncoming {
  json(): unknown;
  headers?: MsgHdrs;
}

interface Subscription {
  unsubscribe(): void;
  drain(): Promise<void>;
}

interface NatsConnectionLike {
  subscribe(
    subject: string,
    opts: { queue?: string; callback: (err: Error | null, msg: unknown) => void },
  ): Subscription;
  drain(): Promise<void>;
  isClosed(): boolean;
}

/**
 * Nest's NATS transport with what the agents need on top of it: subject prefixes, the
 * `ai-agents` queue group for work and plain (broadcast) subscriptions for control
 * patterns, malformed payloads turned into answerable requests, and a stop-accepting step
 * for graceful shutdown that leaves replies to in-flight runs flowing until drain.
 */
export class AgentNatsServer extends ServerNats {
  private readonly subs: Subscription[] = [];
  private readonly prefix: string;

  constructor(agentOptions: AgentNatsServerOptions) {
    super({
      servers: agentOptions.servers,
      name: agentOptions.name,
      queue: AGENT_QUEUE_GROUP,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      deserializer: {
        deserialize: (value: NatsIncoming, options?: { channel: string; replyTo?: string }) =>
          AgentNatsServer.deserialize(value, options),
      },
    });
    const p = agentOptions.subjectPrefix;
    this.prefix = p === '' || p.endsWith('.') ? p : `${p}.`;
  }

  private static deserialize(value: NatsIncoming, options?: { channel: string; replyTo?: string }): unknown {
    let body: unknown;
    try {
      body = value.json();
    } catch {
      // Give it an id so Nest treats it as a request and the caller gets an error event back.
      return { pattern: options?.channel, data: MALFORMED_PAYLOAD, id: options?.replyTo ? randomUUID() : undefined };
    }
    const isPacket = typeof body === 'object' && body !== null && ('pattern' in body || 'data' in body);
    if (isPacket) {
      const packet = body as { id?: unknown; data?: unknown };
      if (packet.id === undefined && options?.replyTo) return { ...packet, pattern: options.channel, id: randomUUID() };
      return { ...packet, pattern: options?.channel };
    }
    return { pattern: options?.channel, data: body, id: options?.replyTo ? randomUUID() : undefined };
  }

  override bindEvents(client: NatsConnectionLike): void {
    for (const [pattern, handler] of this.messageHandlers) {
      const broadcast = (handler.extras as { broadcast?: boolean } | undefined)?.broadcast === true;
      const sub = client.subscribe(`${this.prefix}${pattern}`, {
        queue: broadcast ? undefined : AGENT_QUEUE_GROUP,
        callback: this.getMessageHandler(pattern).bind(this) as (err: Error | null, msg: unknown) => void,
      });
      this.subs.push(sub);
    }
  }

  /** Stops receiving new requests; replies of runs already started still go out. */
  stopAccepting(): void {
    for (const sub of this.subs.splice(0)) sub.unsubscribe();
  }

  isConnected(): boolean {
    try {
      return !this.unwrap<NatsConnectionLike>().isClosed() && this.connected;
    } catch {
      return false;
    }
  }

  private connected = false;

  override async listen(callback: (err?: unknown, ...optionalParams: unknown[]) => void): Promise<void> {
    this.status.subscribe((s) => (this.connected = String(s) === 'connected'));
    await super.listen(callback);
  }

  override async close(): Promise<void> {
    this.stopAccepting();
    try {
      await this.unwrap<NatsConnectionLike>().drain();
    } catch {
      // Already closed: nothing left to drain.
    }
    await super.close().catch(() => undefined);
  }
}

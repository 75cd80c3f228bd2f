import { type ConsumerMessages, jetstream, type JsMsg } from '@nats-io/jetstream';
import type { MsgHdrs, NatsConnection, Subscription } from '@nats-io/transport-node';
import {
  type AgentBus,
  agentBus,
  type AgentChatRequest,
  type AgentEvent,
  agentWire,
  NATS_HEADERS,
} from '@neonpro/contracts';
import { deleteAgentStreams, provisionAgentStreams } from '@neonpro/testing';

/** A run as the scripted agent received it. */
export interface SeenRun {
  request: AgentChatRequest;
  headers?: MsgHdrs;
  grant?: string;
}

export type Behaviour = (
  req: AgentChatRequest,
  run: SeenRun,
  reply: (event: AgentEvent, last?: boolean) => void,
) => AgentEvent[] | 'silent' | 'stall-after-first';

/** Two tokens, then done with "Olá mundo". */
export const defaultBehaviour: Behaviour = (req) => [
  { type: 'token', delta: 'Olá ' },
  { type: 'token', delta: 'mundo' },
  { type: 'done', message_id: req.message_id, content: 'Olá mundo' },
];

/**
 * A scripted agent peer on the real NATS server: it pulls runs from the work queue and writes
 * their event logs with the shared codec, answers presence, and records cancels, so the
 * gateway's handling of every agent behaviour can be driven deterministically.
 */
export class ScriptedAgent {
  readonly seen: SeenRun[] = [];
  readonly cancels: string[] = [];
  behaviour: Behaviour = defaultBehaviour;

  private readonly subs: Subscription[] = [];
  /** Runs whose log has no terminal event yet: a cancel ends them like a real agent does. */
  private readonly open = new Map<string, (event: AgentEvent) => void>();
  private messages?: ConsumerMessages;

  private constructor(
    private readonly nc: NatsConnection,
    readonly bus: AgentBus,
  ) {}

  static async start(nc: NatsConnection, prefix: string): Promise<ScriptedAgent> {
    const agent = new ScriptedAgent(nc, agentBus(prefix));
    await provisionAgentStreams(nc, agent.bus);
    await agent.resume();
    return agent;
  }

  /** Starts (again) pulling and answering presence. */
  async resume(): Promise<void> {
    const { bus } = this;
    this.subs.push(
      this.nc.subscribe(bus.presence, {
        callback: (_e, m) => void m.respond(agentWire.encodePresence({ instance: 'scripted', free_slots: 100 })),
      }),
      this.nc.subscribe(bus.cancel, {
        callback: (_e, m) => {
          const d = agentWire.decodeCancel(m.data);
          if (!d.ok) {
            return;
          }
          this.cancels.push(d.value.message_id);
          this.open.get(d.value.message_id)?.({ type: 'error', code: 'cancelled', message: 'The run was cancelled.' });
        },
      }),
    );
    const consumer = await jetstream(this.nc).consumers.get(bus.runsStream, bus.consumer);
    this.messages = await consumer.consume({ callback: (m) => this.onRun(m) });
    await this.nc.flush();
  }

  /** No agent anymore: presence goes unanswered and nothing is pulled. */
  stop(): void {
    for (const sub of this.subs.splice(0)) {
      sub.unsubscribe();
    }
    void this.messages?.stop();
  }

  /** Stops and deletes this test's streams. */
  async destroy(): Promise<void> {
    this.stop();
    await deleteAgentStreams(this.nc, this.bus);
  }

  private onRun(m: JsMsg): void {
    m.ack();
    const decoded = agentWire.decodeRunRequest(m.data);
    if (!decoded.ok) {
      return;
    }
    const req = decoded.value;
    const run: SeenRun = { request: req, headers: m.headers, grant: m.headers?.get(NATS_HEADERS.grant) || undefined };
    this.seen.push(run);
    let seq = 0;
    const subject = this.bus.events(req.message_id);
    const reply = (ev: AgentEvent): void => {
      if (!this.open.has(req.message_id)) {
        return;
      }
      if (ev.type === 'done' || ev.type === 'error') {
        this.open.delete(req.message_id);
      }
      this.nc.publish(subject, agentWire.encodeEvent({ ...ev, seq: ++seq }));
    };
    this.open.set(req.message_id, reply);
    const out = this.behaviour(req, run, reply);
    if (out === 'silent') {
      return;
    }
    if (out === 'stall-after-first') {
      return reply({ type: 'token', delta: 'x' });
    }
    for (const ev of out) {
      reply(ev);
    }
  }
}

export function parseSse(text: string): { id?: string; event?: string; data: unknown }[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim())
    .map((block) => {
      const ev: { id?: string; event?: string; data: unknown } = { data: undefined };
      for (const line of block.split('\n')) {
        const [k, ...rest] = line.split(': ');
        const v = rest.join(': ');
        if (k === 'id') {
          ev.id = v;
        } else if (k === 'event') {
          ev.event = v;
        } else if (k === 'data') {
          ev.data = JSON.parse(v);
        }
      }
      return ev;
    });
}

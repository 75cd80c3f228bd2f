import { type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { AGENT_QUEUE_GROUP, type AgentEvent, agentChatRequestSchema, agentSubjects } from '@neonpro/contracts';

export type Behaviour = (
  req: { message: string; message_id: string; client_message_id?: string },
  msg: Msg,
  reply: (event: AgentEvent, last?: boolean) => void,
) => AgentEvent[] | 'silent' | 'stall-after-first';

/** Two tokens, then done with "Olá mundo". */
export const defaultBehaviour: Behaviour = (req) => [
  { type: 'token', delta: 'Olá ' },
  { type: 'token', delta: 'mundo' },
  { type: 'done', message_id: req.message_id, content: 'Olá mundo' },
];

/**
 * A scripted agent peer on the real NATS server, speaking Nest's reply envelope, so the
 * gateway's handling of every agent behaviour can be driven deterministically.
 */
export class ScriptedAgent {
  readonly seen: Msg[] = [];
  readonly cancels: string[] = [];
  behaviour: Behaviour = defaultBehaviour;

  private readonly subs: Subscription[] = [];

  constructor(nc: NatsConnection, prefix: string) {
    const s = agentSubjects(prefix);
    this.subs.push(
      nc.subscribe(s.chat, { queue: AGENT_QUEUE_GROUP, callback: (_e, m) => this.onChat(m) }),

      nc.subscribe(s.cancel, {
        callback: (_e, m) => {
          this.cancels.push(m.json<{ data: { message_id: string } }>().data.message_id);
        },
      }),
    );
  }

  stop(): void {
    for (const sub of this.subs) sub.unsubscribe();
  }

  private onChat(m: Msg): void {
    this.seen.push(m);
    const packet = m.json<{ id: string; data: unknown }>();
    const req = agentChatRequestSchema.parse(packet.data);
    const reply = (ev: AgentEvent, last = false): void => {
      m.respond(JSON.stringify({ id: packet.id, response: ev, isDisposed: last || undefined }));
    };
    const out = this.behaviour(req, m, reply);
    if (out === 'silent') return;
    if (out === 'stall-after-first') {
      m.respond(JSON.stringify({ id: packet.id, response: { type: 'token', delta: 'x' } }));
      return;
    }
    out.forEach((ev, i) =>
      m.respond(JSON.stringify({ id: packet.id, response: ev, isDisposed: i === out.length - 1 || undefined })),
    );
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
        if (k === 'id') ev.id = v;
        else if (k === 'event') ev.event = v;
        else if (k === 'data') ev.data = JSON.parse(v);
      }
      return ev;
    });
}

import { Parser } from '@asyncapi/parser';
import { DEMO_USERS, must } from '@neonpro/testing';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import type { Namespace } from 'socket.io';
import { ChatGateway } from '../../src/realtime/chat.gateway.js';
import { SocketEvent } from '../../src/realtime/realtime.schema.js';
import { type ChatClient, chatClient, connected } from '../realtime/socket-client.js';
import { type GatewayHarness, startGatewayHarness } from '../support/test-gateway.js';

interface AsyncApiDoc {
  channels: { chat: { messages: Record<string, { $ref: string }> } };
  operations: Record<string, { action: 'send' | 'receive'; messages: { $ref: string }[]; reply?: unknown }>;
  components: { messages: Record<string, { name: string; payload: object }> };
}

describe('AsyncAPI document of the /chat namespace', () => {
  let h: GatewayHarness;
  let raw: string;
  let doc: AsyncApiDoc;
  let client: ChatClient;
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats.default(ajv);

  /** Event name → its message component, for one direction of the document. */
  const messagesOf = (action: 'send' | 'receive') =>
    new Map(
      Object.values(doc.operations)
        .filter((o) => o.action === action)
        .flatMap((o) => o.messages)
        .map((ref) => {
          const k = ref.$ref.split('/').at(-1)!;
          const m = must(doc.components.messages[k], `message ${k}`);
          return [m.name, { key: k, ...m }] as const;
        }),
    );

  beforeAll(async () => {
    h = await startGatewayHarness('asyncapi', { env: { PUBLIC_URL: 'https://api.neonpro.example' } });
    const r = await fetch(`${h.base}/docs/asyncapi.json`);
    expect(r.status).toBe(200);
    raw = await r.text();
    doc = JSON.parse(raw) as AsyncApiDoc;
    client = await connected(chatClient(h.base, await h.auth.token(DEMO_USERS.auroraAdmin)));
  });

  afterAll(async () => {
    client?.close();
    await h?.close();
  });

  it('is a valid AsyncAPI 3 document for the official parser (no error diagnostics)', async () => {
    const { document, diagnostics } = await new Parser().parse(raw);
    // Warnings (style hints) are not failures of the contract.
    expect(
      diagnostics
        .filter((d) => Number(d.severity) === 0 /* DiagnosticSeverity.Error */)
        .map((d) => `${d.code}: ${d.message} @ ${d.path.join('.')}`),
    ).toEqual([]);
    expect(document?.version()).toBe('3.0.0');
    expect(document?.servers().get('gateway')?.host()).toBe('api.neonpro.example');
    expect(document?.servers().get('gateway')?.protocol()).toBe('wss');
    expect(document?.channels().get('chat')?.address()).toBe('/chat');
  });

  it('documents exactly the events the gateway listens to (client → server), each with its ack', () => {
    // The gateway's real listeners, read from the server side of a connected socket.
    const gateway: unknown = h.gw.app.get(ChatGateway);
    const nsp = (gateway as { nsp: Namespace }).nsp;
    const serverSocket = must([...nsp.sockets.values()][0], 'the first of [...nsp.sockets.values()]');
    // Socket.IO's own reserved events are not part of the contract.
    const reserved = [
      'connect',
      'connect_error',
      'disconnect',
      'disconnecting',
      'error',
      'newListener',
      'removeListener',
    ];
    const handled = serverSocket
      .eventNames()
      .map(String)
      .filter((e) => !reserved.includes(e))
      .sort();
    const documented = messagesOf('send');
    expect([...documented.keys()].sort()).toEqual(handled);
    for (const o of Object.values(doc.operations).filter((op) => op.action === 'send')) {
      expect(o.reply).toBeDefined();
    }
  });

  it('documents exactly the events the gateway emits (server → client): its event names minus the handled ones', () => {
    const all = Object.values(SocketEvent) as string[];
    const sent = [...messagesOf('send').keys()];
    expect([...messagesOf('receive').keys()].sort()).toEqual(all.filter((e) => !sent.includes(e)).sort());
  });

  it('what a chat run really sends, and the acks, validate against the documented payloads', async () => {
    const received: { event: string; args: unknown[] }[] = [];
    client.socket.onAny((event: string, ...args: unknown[]) => received.push({ event, args }));
    h.agent.behaviour = (req) => [
      { type: 'tool', name: 'list_appointments', status: 'started' },
      { type: 'tool', name: 'list_appointments', status: 'succeeded' },
      { type: 'token', delta: 'Amanhã há ' },
      { type: 'token', delta: '2 consultas.' },
      {
        type: 'proposal',
        proposal_id: 'p-0123456789abcdef',
        action: 'cancel',
        summary: 'Cancelar a consulta de Maria Araújo amanhã às 09:00 com Dra. Lima',
        expires_at: new Date(Date.now() + 600000).toISOString(),
      },
      { type: 'done', message_id: req.message_id, content: 'Amanhã há 2 consultas.' },
    ];
    const okAck = await client.ack<{ ok: boolean; message_id: string; session_id: string }>('chat:send', {
      message: 'agenda de amanhã?',
      client_message_id: 'asyncapi-1',
    });
    expect(okAck).toMatchObject({ ok: true });
    await client.untilEnd(okAck.message_id);
    // Fails mid-stream (after the ack): the room gets chat:error.
    h.agent.behaviour = () => [
      { type: 'token', delta: 'Um momento' },
      { type: 'error', code: 'agent_failed', message: 'The assistant failed.' },
    ];
    const failed = await client.ack<{ ok: boolean; message_id: string }>('chat:send', {
      message: 'e depois?',
      session_id: okAck.session_id,
      client_message_id: 'asyncapi-2',
    });
    expect(failed).toMatchObject({ ok: true });
    await client.untilEnd(failed.message_id);
    const badAck = await client.ack('chat:send', { message: '' });
    client.socket.emit('session:join', { session_id: 'nope' }); // no ack: answered with chat:error
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (received.some((r) => r.event === 'chat:error' && (r.args[0] as { event?: string }).event)) {
          resolve();
        } else {
          setImmediate(check);
        }
      };
      check();
    });

    const receive = messagesOf('receive');
    const payloadOf = (event: string) => receive.get(event)?.payload;
    expect(new Set(received.map((r) => r.event))).toEqual(
      new Set(['chat:tool', 'chat:token', 'chat:proposal', 'chat:done', 'chat:error']),
    );
    for (const r of received) {
      const schema = payloadOf(r.event);
      expect({ event: r.event, documented: schema !== undefined }).toEqual({ event: r.event, documented: true });
      const validate = ajv.compile(schema!);
      const ok = validate(r.args[0]);
      expect({
        event: r.event,
        data: must(r.args[0], 'the first of r.args'),
        errors: ok ? null : validate.errors,
      }).toEqual({
        event: r.event,
        data: must(r.args[0], 'the first of r.args'),
        errors: null,
      });
    }
    const ackSchema = must(doc.components.messages.chatSendAck, 'the chatSendAck message').payload;
    for (const a of [okAck, failed, badAck]) {
      const validate = ajv.compile(ackSchema);
      expect({ ack: a, ok: validate(a), errors: validate.errors ?? null }).toEqual({ ack: a, ok: true, errors: null });
    }
    expect(badAck).toMatchObject({ ok: false, error: { code: 'invalid_payload' } });
  });
});

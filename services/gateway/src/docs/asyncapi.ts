import { chatProposalSchema, ERROR_CODES } from '@neonpro/contracts';
import { z } from 'zod';
import {
  CHAT_NAMESPACE,
  chatCancelSchema,
  chatSendSchema,
  sessionJoinSchema,
  sessionRefSchema,
  SocketEvent,
} from '../realtime/realtime.schema.js';

/** Every event name of the `/chat` namespace. */
export type SocketEventName = (typeof SocketEvent)[keyof typeof SocketEvent];

const code = z.enum(ERROR_CODES).meta({ description: 'Stable error code.' });
const ids = { session_id: z.uuid(), message_id: z.uuid() };

const ackError = z.object({
  code,
  message: z.string(),
  retry_after: z.number().optional().meta({ description: 'Seconds to wait before retrying.' }),
  errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
});
const ack = <T extends z.ZodRawShape>(shape: T) =>
  z.union([z.object({ ok: z.literal(true), ...shape }), z.object({ ok: z.literal(false), error: ackError })]);

interface EventDoc {
  /** `send`: the client emits it (the gateway listens); `receive`: the gateway emits it. */
  action: 'send' | 'receive';
  summary: string;
  payload: z.ZodType;
  /** What the gateway answers through the Socket.IO acknowledgement callback. */
  ack?: z.ZodType;
}

/**
 * Every event of the namespace, keyed by the gateway's own `SocketEvent` names: adding an event
 * there without documenting it here does not compile. Client payloads are the schemas the
 * gateway validates with; server payloads are what chat-run.service.ts and chat.gateway.ts emit
 * (the realtime AsyncAPI test checks received events against them).
 */
export const SOCKET_EVENT_DOCS: Record<SocketEventName, EventDoc> = {
  [SocketEvent.Send]: {
    action: 'send',
    summary:
      'Send a chat message. The socket joins the session room; the answer streams to the room as chat:tool, ' +
      'chat:token, chat:proposal, then chat:done or chat:error. `confirm` confirms the pending proposal. Shares the `ai` rate-limit tier with REST.',
    payload: chatSendSchema,
    ack: ack(ids),
  },
  [SocketEvent.Cancel]: {
    action: 'send',
    summary: "Cancel the caller's own running message; its stream ends with chat:error `cancelled`.",
    payload: chatCancelSchema,
    ack: ack({ message_id: z.uuid() }),
  },
  [SocketEvent.Join]: {
    action: 'send',
    summary:
      "Join one of the caller's sessions (e.g. on another device). With `message_id` (and `after`, the last " +
      '`seq` seen) the events of that run after `after` are replayed to this socket first, then live ones follow.',
    payload: sessionJoinSchema,
    ack: ack({ session_id: z.uuid() }),
  },
  [SocketEvent.Leave]: {
    action: 'send',
    summary: 'Stop receiving a session.',
    payload: sessionRefSchema,
    ack: ack({ session_id: z.uuid() }),
  },
  [SocketEvent.Token]: {
    action: 'receive',
    summary: 'A piece of the answer. `seq` orders the events of a message (resume with session:join `after`).',
    payload: z.object({ ...ids, delta: z.string(), seq: z.int().min(1) }),
  },
  [SocketEvent.Tool]: {
    action: 'receive',
    summary: 'The assistant is using a tool.',
    payload: z.object({
      ...ids,
      name: z.string(),
      status: z.enum(['started', 'succeeded', 'failed']),
      seq: z.int().min(1),
    }),
  },
  [SocketEvent.Restart]: {
    action: 'receive',
    summary: 'The run was redelivered and diverged from what was streamed: drop the partial text of this message.',
    payload: z.object({ ...ids, seq: z.int().min(1) }),
  },
  [SocketEvent.Proposal]: {
    action: 'receive',
    summary:
      'A write (booking, cancellation, rescheduling) the assistant asks to confirm, rendered by the server. Confirm ' +
      'it by sending the next chat:send with `confirm: {proposal_id}`; only the newest proposal of a session counts.',
    payload: z.object({ ...ids, ...chatProposalSchema.shape, seq: z.int().min(1) }),
  },
  [SocketEvent.Done]: {
    action: 'receive',
    summary: 'The complete answer; the end of the message.',
    payload: z.object({ ...ids, content: z.string(), seq: z.int().min(1) }),
  },
  [SocketEvent.Error]: {
    action: 'receive',
    summary:
      'A run failed (with session_id and message_id; the end of the message), or an event sent without an ack ' +
      'was refused (with `event`, the event name).',
    payload: z.object({
      session_id: z.uuid().optional(),
      message_id: z.uuid().optional(),
      event: z.string().optional(),
      code,
      message: z.string(),
      seq: z.int().min(1).optional(),
      retry_after: z.number().optional(),
      errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
    }),
  },
  [SocketEvent.Expired]: {
    action: 'receive',
    summary: 'The access token expired; the server disconnects. Reconnect with a fresh token.',
    payload: z.object({ code: z.literal('token_expired'), message: z.string() }),
  },
};

/** `chat:send` → `chatSend`: component and operation keys. */
const key = (event: string): string => event.replace(/[:_-](\w)/g, (_m, c: string) => c.toUpperCase());

function schema(s: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(s, { target: 'draft-07', io, unrepresentable: 'any' });
  return rest;
}

const RECOVERY_NOTE =
  'Connection state recovery: a client that reconnects within `SOCKET_RECOVERY_WINDOW_MS` receives the room ' +
  'events it missed. For that, every room broadcast (chat:token, chat:tool, chat:restart, chat:proposal, chat:done, chat:error) carries one ' +
  'extra trailing argument, the recovery offset (a string). The JavaScript client strips it; python-socketio ' +
  'passes it to the handler, so declare handlers as `def on_token(data, *args)` (or `offset=None`).';

export interface AsyncApiOptions {
  /** Public base URL of the API (`PUBLIC_URL`); unset = a `{host}` variable. */
  publicUrl?: string;
}

/** The AsyncAPI 3 document of the `/chat` namespace, served at /docs/asyncapi.json. */
export function buildAsyncApiDocument(opts: AsyncApiOptions = {}): Record<string, unknown> {
  const url = opts.publicUrl ? new URL(opts.publicUrl) : undefined;
  const messages: Record<string, unknown> = {};
  const channelMessages: Record<string, unknown> = {};
  const ackMessages: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  for (const [event, d] of Object.entries(SOCKET_EVENT_DOCS)) {
    const k = key(event);
    messages[k] = {
      name: event,
      title: event,
      summary: d.summary,
      ...(d.action === 'receive' && event !== SocketEvent.Expired ? { description: RECOVERY_NOTE } : {}),
      payload: schema(d.payload, d.action === 'send' ? 'input' : 'output'),
    };
    channelMessages[k] = { $ref: `#/components/messages/${k}` };
    if (d.ack) {
      messages[`${k}Ack`] = {
        name: `${event} ack`,
        title: `${event} acknowledgement`,
        summary: `What the gateway passes to the acknowledgement callback of ${event}.`,
        payload: schema(d.ack, 'output'),
      };
      ackMessages[`${k}Ack`] = { $ref: `#/components/messages/${k}Ack` };
    }
    operations[`${d.action}${k.charAt(0).toUpperCase()}${k.slice(1)}`] = {
      action: d.action,
      channel: { $ref: '#/channels/chat' },
      summary: d.summary,
      messages: [{ $ref: `#/channels/chat/messages/${k}` }],
      ...(d.ack
        ? { reply: { channel: { $ref: '#/channels/acks' }, messages: [{ $ref: `#/channels/acks/messages/${k}Ack` }] } }
        : {}),
    };
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'NeonPro realtime chat',
      version: '1',
      description:
        `Socket.IO namespace \`${CHAT_NAMESPACE}\` on path \`/socket.io\` (prefer \`transports: ['websocket']\`). ` +
        'Authenticate in the handshake with `auth: { token: <Supabase access token> }`; a refused handshake is a ' +
        '`connect_error` whose `data.code` is `unauthorized`, `token_expired`, `forbidden`, `rate_limited` or ' +
        '`too_many_connections` (with `data.retry_after` when waiting helps). Every client event is validated: a bad ' +
        'payload gets `invalid_payload` (with `errors[]`) in its ack, or a chat:error when no ack was asked for; the ' +
        `socket stays connected.\n\n${RECOVERY_NOTE}\n\nThe REST API is described at /docs/openapi.json.`,
    },
    defaultContentType: 'application/json',
    servers: {
      gateway: {
        host: url ? url.host : '{host}',
        protocol: url?.protocol === 'https:' ? 'wss' : 'ws',
        pathname: '/socket.io',
        description: 'The gateway (Socket.IO over WebSocket).',
        ...(url ? {} : { variables: { host: { default: 'localhost:3000', description: 'Gateway host and port.' } } }),
        security: [{ $ref: '#/components/securitySchemes/handshakeToken' }],
      },
    },
    channels: {
      chat: {
        address: CHAT_NAMESPACE,
        title: 'Chat namespace',
        description: 'Client events and the session-room broadcasts of the assistant’s answers.',
        messages: channelMessages,
      },
      acks: {
        address: null,
        title: 'Acknowledgements',
        description: 'Socket.IO acknowledgement callbacks: `socket.emit(event, payload, (ack) => …)`.',
        messages: ackMessages,
      },
    },
    operations,
    components: {
      messages,
      securitySchemes: {
        handshakeToken: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'The Supabase access token, sent as the Socket.IO handshake `auth: { token }` (not a header).',
        },
      },
    },
  };
}

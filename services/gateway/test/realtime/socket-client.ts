import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';

export interface Received {
  event: string;
  data: Record<string, unknown>;
}

/** The ack of chat:send: the ids of the accepted message, or the refusal. */
export type SendAck =
  { ok: true; session_id: string; message_id: string } | { ok: false; error: Record<string, unknown> };

/** A /chat client that records every server event in arrival order. */
export interface ChatClient {
  socket: Socket;
  received: Received[];
  /** Resolves with the events of one message once its chat:done or chat:error has arrived. */
  untilEnd(messageId: string): Promise<Received[]>;
  ack<T = Record<string, unknown>>(event: string, payload: unknown): Promise<T>;
  /** chat:send that the test expects accepted: its ids, or a throw with the refusal. */
  send(payload: Record<string, unknown>): Promise<{ session_id: string; message_id: string }>;
  close(): void;
}

const CHAT_EVENTS = ['chat:token', 'chat:tool', 'chat:done', 'chat:error', 'session:expired'];

export function chatClient(
  base: string,
  token: string | undefined,
  opts: Partial<ManagerOptions & SocketOptions> = {},
): ChatClient {
  const socket = io(`${base}/chat`, {
    auth: token === undefined ? {} : { token },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    ...opts,
  });
  const received: Received[] = [];
  const waiters: (() => void)[] = [];
  for (const event of CHAT_EVENTS) {
    socket.on(event, (data: Record<string, unknown>) => {
      received.push({ event, data });
      for (const w of waiters.splice(0)) {
        w();
      }
    });
  }
  const ofMessage = (id: string): Received[] => received.filter((r) => r.data.message_id === id);
  const ack = <T>(event: string, payload: unknown): Promise<T> =>
    socket.timeout(15000).emitWithAck(event, payload) as Promise<T>;
  return {
    socket,
    received,
    untilEnd: (messageId) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no end of message ${messageId}`)), 15000);
        const check = (): void => {
          const mine = ofMessage(messageId);
          if (mine.some((r) => r.event === 'chat:done' || r.event === 'chat:error')) {
            clearTimeout(timer);
            resolve(mine);
          } else {
            waiters.push(check);
          }
        };
        check();
      }),
    ack,
    send: async (payload) => {
      const r = await ack<SendAck>('chat:send', payload);
      if (!r.ok) {
        throw new Error(`chat:send refused: ${JSON.stringify(r.error)}`);
      }
      return r;
    },
    close: () => void socket.disconnect(),
  };
}

/** Connects and resolves once connected, or rejects with the connect_error. */
export function connected(client: ChatClient): Promise<ChatClient> {
  return new Promise((resolve, reject) => {
    if (client.socket.connected) {
      return resolve(client);
    }
    client.socket.once('connect', () => resolve(client));
    client.socket.once('connect_error', reject);
  });
}

/** The connect_error a refused handshake produces. */
export function refused(client: ChatClient): Promise<Error & { data?: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    client.socket.once('connect', () => reject(new Error('connected, expected a refusal')));
    client.socket.once('connect_error', (err) => resolve(err as Error & { data?: Record<string, unknown> }));
  });
}

export function nextEvent<T = unknown>(socket: Socket, event: string): Promise<T> {
  return new Promise((resolve) => socket.once(event, (data: T) => resolve(data)));
}

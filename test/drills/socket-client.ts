import { io, type Socket } from 'socket.io-client';

/** Every bound of the drills' socket clients: a hang shows up as a failure, never as a stuck test. */
export const SOCKET_BOUND_MS = 10_000;

export interface Received {
  event: string;
  data: Record<string, unknown>;
}

const SERVER_EVENTS = ['chat:token', 'chat:tool', 'chat:done', 'chat:error', 'session:expired'];

/** An authenticated /chat socket (websocket only, no reconnection) recording the server's events. */
export function openSocket(base: string, token: string): { socket: Socket; received: Received[] } {
  const socket = io(`${base}/chat`, {
    auth: { token },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    timeout: SOCKET_BOUND_MS,
  });
  const received: Received[] = [];
  for (const event of SERVER_EVENTS) {
    socket.on(event, (data: Record<string, unknown>) => received.push({ event, data }));
  }
  return { socket, received };
}

/** Resolves once connected, or with the connect_error (its `data.code` says why). */
export function connectOutcome(socket: Socket): Promise<{ connected: true } | { connected: false; code?: unknown }> {
  return new Promise((resolve) => {
    if (socket.connected) {
      return resolve({ connected: true });
    }
    socket.once('connect', () => resolve({ connected: true }));
    socket.once('connect_error', (err: Error & { data?: { code?: unknown } }) =>
      resolve({ connected: false, code: err.data?.code ?? err.message }),
    );
  });
}

/** The end (chat:done or chat:error) of one message, within the bound. */
export async function messageEnd(received: Received[], messageId: string): Promise<Received> {
  const deadline = Date.now() + SOCKET_BOUND_MS;
  for (;;) {
    const end = received.find(
      (r) => r.data.message_id === messageId && (r.event === 'chat:done' || r.event === 'chat:error'),
    );
    if (end) {
      return end;
    }
    if (Date.now() > deadline) {
      throw new Error(`no chat:done or chat:error for ${messageId} within the bound`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

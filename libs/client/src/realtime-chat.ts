import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';

// The /chat namespace as the gateway's AsyncAPI document (/docs/asyncapi.json) describes it.

export interface ChatTokenEvent {
  session_id: string;
  message_id: string;
  delta: string;
  seq: number;
}
export interface ChatToolEvent {
  session_id: string;
  message_id: string;
  name: string;
  status: 'started' | 'succeeded' | 'failed';
  seq: number;
}
export interface ChatRestartEvent {
  session_id: string;
  message_id: string;
  seq: number;
}
/** A write to confirm: send `confirm: {proposal_id}` with the next `chat:send` (only the newest counts). */
export interface ChatProposalEvent {
  session_id: string;
  message_id: string;
  proposal_id: string;
  action: 'book' | 'cancel' | 'reschedule';
  /** What will be written, rendered by the server in the user's language. */
  summary: string;
  /** ISO instant after which confirming is refused. */
  expires_at: string;
  seq: number;
}
export interface ChatDoneEvent {
  session_id: string;
  message_id: string;
  content: string;
  seq: number;
}
export interface ChatErrorEvent {
  session_id?: string;
  message_id?: string;
  /** Set when an event sent without an ack was refused. */
  event?: string;
  code: string;
  message: string;
  seq?: number;
  retry_after?: number;
}
export interface SessionExpiredEvent {
  code: 'token_expired';
  message: string;
}

/** Server → client events. */
export interface ChatServerEvents {
  'chat:token': (e: ChatTokenEvent) => void;
  'chat:tool': (e: ChatToolEvent) => void;
  /** Drop the partial text of this message: the run restarted. */
  'chat:restart': (e: ChatRestartEvent) => void;
  'chat:proposal': (e: ChatProposalEvent) => void;
  'chat:done': (e: ChatDoneEvent) => void;
  'chat:error': (e: ChatErrorEvent) => void;
  'session:expired': (e: SessionExpiredEvent) => void;
}

/** Client → server events: a payload and the ack callback (typed per event by the methods below). */
type ChatClientEvents = Record<string, (payload: object, ack: (reply: unknown) => void) => void>;

export interface ChatSend {
  message: string;
  session_id?: string;
  /** Your idempotency key: resending it never runs the turn twice. */
  client_message_id: string;
  /** Confirms the proposal the previous answer showed (the demo card's Confirm button). */
  confirm?: { proposal_id: string };
}

interface AckError {
  code: string;
  message: string;
  retry_after?: number;
  errors?: { field: string; message: string }[];
}

/** A refused Socket.IO event (its ack's `error`), or a refused handshake (`connect_error`). */
export class RealtimeError extends Error {
  readonly code: string;
  readonly retryAfter?: number;
  readonly errors?: { field: string; message: string }[];

  constructor(error: AckError) {
    super(error.message);
    this.name = 'RealtimeError';
    this.code = error.code;
    this.retryAfter = error.retry_after;
    this.errors = error.errors;
  }
}

export interface RealtimeChatOptions {
  /** Bound for each acknowledgement (default 15 s). */
  ackTimeoutMs?: number;
  /** Passed to socket.io-client (e.g. `reconnection: false`). */
  socket?: Partial<ManagerOptions & SocketOptions>;
}

/**
 * The realtime chat over Socket.IO (namespace `/chat`). The token is read at every (re)connect, so
 * a refreshed session is used after a reconnection. Listen with `chat.socket.on('chat:token', …)`.
 */
export class RealtimeChat {
  readonly socket: Socket<ChatServerEvents, ChatClientEvents>;
  private readonly ackTimeoutMs: number;

  constructor(baseUrl: string, token: () => string | undefined, opts: RealtimeChatOptions = {}) {
    this.ackTimeoutMs = opts.ackTimeoutMs ?? 15000;
    this.socket = io(`${baseUrl}/chat`, {
      path: '/socket.io',
      // Websocket only: no sticky sessions needed behind a load balancer.
      transports: ['websocket'],
      auth: (cb) => cb({ token: token() }),
      ...opts.socket,
    });
  }

  /** Resolves once connected; rejects with the handshake's refusal (`unauthorized`, `rate_limited`, …). */
  connected(): Promise<this> {
    return new Promise((resolve, reject) => {
      if (this.socket.connected) {
        return resolve(this);
      }
      const onError = (err: Error & { data?: AckError }): void => {
        this.socket.off('connect', onConnect);
        reject(new RealtimeError({ code: err.data?.code ?? 'unavailable', message: err.message, ...err.data }));
      };
      const onConnect = (): void => {
        this.socket.off('connect_error', onError);
        resolve(this);
      };
      this.socket.once('connect', onConnect);
      this.socket.once('connect_error', onError);
    });
  }

  /** Sends a message; the answer streams to the session's room (chat:tool, chat:token, chat:proposal, chat:done | chat:error). */
  send(input: ChatSend): Promise<{ session_id: string; message_id: string }> {
    return this.call('chat:send', input);
  }

  cancel(messageId: string): Promise<{ message_id: string }> {
    return this.call('chat:cancel', { message_id: messageId });
  }

  /**
   * Receive one of your sessions (e.g. on a second device, or after a reconnect). With `resume`,
   * the run's events after `after` (the last `seq` you saw) are replayed to this socket first.
   */
  join(sessionId: string, resume?: { message_id: string; after?: number }): Promise<{ session_id: string }> {
    return this.call('session:join', { session_id: sessionId, ...resume });
  }

  leave(sessionId: string): Promise<{ session_id: string }> {
    return this.call('session:leave', { session_id: sessionId });
  }

  close(): void {
    this.socket.disconnect();
  }

  private async call<T>(event: string, payload: object): Promise<T> {
    const ack = (await this.socket.timeout(this.ackTimeoutMs).emitWithAck(event, payload)) as
      ({ ok: true } & T) | { ok: false; error: AckError };
    if (!ack.ok) {
      throw new RealtimeError(ack.error);
    }
    const { ok: _ok, ...reply } = ack;
    return reply as T;
  }
}

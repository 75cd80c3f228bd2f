import { randomUUID } from 'node:crypto';
import { Inject } from '@nestjs/common';
import { type OnGatewayConnection, type OnGatewayInit, WebSocketGateway } from '@nestjs/websockets';
import proxyAddr from '@fastify/proxy-addr';
import { ErrorCode } from '@neonpro/contracts';
import { maskPii } from '@neonpro/observability';
import { PinoLogger } from 'nestjs-pino';
import type { Namespace, Socket } from 'socket.io';
import type { z } from 'zod';
import type { Authenticated } from '../auth/auth.types.js';
import { Authenticator } from '../auth/authenticator.service.js';
import { ProblemException } from '../common/problem.js';
import { toWsError } from '../common/ws-error.js';
import { GATEWAY_CONFIG, type GatewayRuntimeConfig } from '../gateway.config.js';
import { GatewayMetrics } from '../metrics/gateway-metrics.service.js';
import { type TrustProxy, trustProxyOption } from '../edge/trust-proxy.js';
import { normalizeIp } from '../rate-limit/throttler.js';
import { RateLimitService } from '../rate-limit/rate-limit.service.js';
import { ChatRunService } from './chat-run.service.js';
import { SocketExpiry } from './socket-expiry.js';
import { releaseLastFrameChunk } from './socket-io.adapter.js';
import {
  type AckError,
  CHAT_NAMESPACE,
  chatCancelSchema,
  chatSendSchema,
  sessionJoinSchema,
  sessionRefSchema,
  sessionRoom,
  SocketEvent,
} from './realtime.schema.js';

type AckFn = (response: unknown) => void;

interface Connection {
  auth: Authenticated;
}

/** A connect_error the client can act on: `err.data.code` (and `retry_after` when waiting helps). */
function refusal(code: string, message: string, retryAfter?: number): Error {
  const err = new Error(message) as Error & { data: { code: string; retry_after?: number } };
  err.data = { code, ...(retryAfter !== undefined ? { retry_after: retryAfter } : {}) };
  return err;
}

/**
 * Realtime chat (namespace `/chat`). Handshakes are admitted by a namespace middleware
 * (capacity, per-IP attempts, token), since HTTP guards never see them; every event payload is
 * validated with zod and answered through its ack, or with `chat:error` when there is no ack.
 */
@WebSocketGateway({ namespace: CHAT_NAMESPACE })
export class ChatGateway implements OnGatewayInit<Namespace>, OnGatewayConnection<Socket> {
  private nsp!: Namespace;
  private readonly connections = new WeakMap<Socket, Connection>();
  /** One shared timer disconnects sockets whose token expired (no timer per socket). */
  private readonly expiries = new SocketExpiry<Socket>((socket) => {
    socket.emit(SocketEvent.Expired, {
      code: 'token_expired',
      message: 'The access token has expired; reconnect with a fresh one.',
    });
    socket.disconnect(true);
  });
  private admitting = 0;
  private readonly trust: TrustProxy;

  constructor(
    private readonly authenticator: Authenticator,
    private readonly runs: ChatRunService,
    private readonly rateLimit: RateLimitService,
    private readonly metrics: GatewayMetrics,
    private readonly logger: PinoLogger,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayRuntimeConfig,
  ) {
    this.trust = trustProxyOption(config.TRUST_PROXY);
  }

  afterInit(nsp: Namespace): void {
    this.nsp = nsp;
    this.runs.bind(nsp);
    nsp.use((socket, next) => {
      this.admitting++;
      this.admit(socket).then(
        () => {
          this.admitting--;
          next();
        },
        (err: Error) => {
          this.admitting--;
          next(err);
        },
      );
    });
  }

  /** Every attempt counts against its IP, then capacity, then the token. */
  private async admit(socket: Socket): Promise<void> {
    const ip = this.clientIp(socket);
    const window = this.config.SOCKET_CONNECT_RATE_WINDOW_S * 1000;
    try {
      const state = this.rateLimit.enabled
        ? await this.rateLimit.hit(this.rateLimit.key('socket_connect', `ip:${ip}`), window)
        : undefined;
      if (state && state.hits > this.config.SOCKET_CONNECT_RATE_LIMIT) {
        this.metrics.rateLimitRejections.inc({ tier: 'socket_connect' });
        throw refusal(
          ErrorCode.RateLimited,
          'Too many connection attempts; retry later.',
          Math.max(1, Math.ceil(state.resetMs / 1000)),
        );
      }
    } catch (err) {
      if (err instanceof ProblemException) {
        throw refusal(err.code, err.detail, 1);
      }
      throw err;
    }
    if (this.nsp.sockets.size + this.admitting > this.config.SOCKET_MAX_CONNECTIONS) {
      throw refusal(ErrorCode.TooManyConnections, 'This server is at its connection limit; retry shortly.', 5);
    }
    const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
    let auth: Authenticated;
    try {
      auth = await this.authenticator.authenticate(typeof token === 'string' ? token : undefined);
    } catch (err) {
      if (!(err instanceof ProblemException)) {
        throw refusal(ErrorCode.Internal, 'Authentication failed.');
      }
      // Missing, invalid and expired tokens all read `unauthorized` (the message says which).
      if (err.getStatus() === 401) {
        throw refusal(ErrorCode.Unauthorized, err.detail);
      }
      throw refusal(err.code, err.detail, err.problemOptions.retryAfter);
    }
    // A recovered connection keeps its rooms: it must come back as the same user.
    const previous = (socket.data as { user_id?: string } | undefined)?.user_id;
    if (socket.recovered && previous !== auth.principal.user_id) {
      throw refusal(ErrorCode.Unauthorized, 'The token belongs to another user.');
    }
    // The token is not needed after admission (expiry is tracked from its claims): drop the
    // socket's own copy of the string (about 1 KiB per socket).
    const handshakeAuth = socket.handshake.auth as { token?: unknown } | undefined;
    if (handshakeAuth) {
      delete handshakeAuth.token;
    }
    // Only the user id travels with the (recoverable) socket state; claims stay in this process.
    socket.data = { user_id: auth.principal.user_id };
    this.connections.set(socket, { auth });
  }

  handleConnection(socket: Socket): void {
    const conn = this.connections.get(socket);
    if (!conn) {
      socket.disconnect(true);
      return;
    }
    this.metrics.socketConnections.inc();
    releaseLastFrameChunk(socket);
    this.listen(socket);
    this.expiries.add(socket, conn.auth.claims.exp * 1000);
  }

  /** From the shared `disconnect` listener (GatewayIoAdapter skips Nest's per-socket hook). */
  private forget(socket: Socket): void {
    const conn = this.connections.get(socket);
    if (!conn) {
      return;
    }
    this.metrics.socketConnections.dec();
    this.expiries.delete(socket);
    this.connections.delete(socket);
  }

  onSend(socket: Socket, body: unknown, ack?: AckFn): Promise<void> {
    return this.handle(SocketEvent.Send, socket, ack, async (auth, requestId) => {
      const input = parse(chatSendSchema, body);
      const run = await this.runs.send(auth, input, requestId);
      await socket.join(sessionRoom(run.sessionId));
      return { reply: { session_id: run.sessionId, message_id: run.messageId }, after: run.relay };
    });
  }

  onCancel(socket: Socket, body: unknown, ack?: AckFn): Promise<void> {
    return this.handle(SocketEvent.Cancel, socket, ack, async (auth) => {
      const { message_id } = parse(chatCancelSchema, body);
      await this.runs.cancel(auth.principal.user_id, message_id);
      return { reply: { message_id } };
    });
  }

  onJoin(socket: Socket, body: unknown, ack?: AckFn): Promise<void> {
    return this.handle(SocketEvent.Join, socket, ack, async (auth, requestId) => {
      const { session_id, message_id, after } = parse(sessionJoinSchema, body);
      await this.runs.assertOwnsSession(auth, session_id, requestId);
      const replay =
        message_id === undefined
          ? undefined
          : await this.runs.replay(socket, auth.principal.user_id, session_id, message_id, after ?? 0);
      await socket.join(sessionRoom(session_id));
      return { reply: { session_id }, after: replay };
    });
  }

  onLeave(socket: Socket, body: unknown, ack?: AckFn): Promise<void> {
    return this.handle(SocketEvent.Leave, socket, ack, async () => {
      const { session_id } = parse(sessionRefSchema, body);
      await socket.leave(sessionRoom(session_id));
      return { reply: { session_id } };
    });
  }

  /**
   * Plain listeners rather than @SubscribeMessage: Nest builds several RxJS subscribers per
   * handler per socket, which costs ~10 KB of heap per connection at 10k sockets; `handle()`
   * already does validation, acks and error mapping. The listeners are shared by every socket
   * (the emitter passes the socket as `this`), so a connection adds no closures; `disconnect`
   * too, instead of Nest's per-socket hook (see GatewayIoAdapter.bindClientDisconnect).
   */
  private listen(socket: Socket): void {
    for (const [event, listener] of this.listeners) {
      socket.on(event, listener);
    }
    socket.on('disconnect', this.onDisconnect);
  }

  private readonly onDisconnect = ((gateway: ChatGateway) =>
    function (this: Socket): void {
      gateway.forget(this);
    })(this);

  private readonly listeners = (
    [
      [SocketEvent.Send, (socket, body, ack) => this.onSend(socket, body, ack)],
      [SocketEvent.Cancel, (socket, body, ack) => this.onCancel(socket, body, ack)],
      [SocketEvent.Join, (socket, body, ack) => this.onJoin(socket, body, ack)],
      [SocketEvent.Leave, (socket, body, ack) => this.onLeave(socket, body, ack)],
    ] as [string, (socket: Socket, body: unknown, ack?: AckFn) => Promise<void>][]
  ).map(([event, handler]): [string, (this: Socket, ...args: unknown[]) => void] => [
    event,
    function (this: Socket, ...args: unknown[]): void {
      // The ack, when the client asked for one, is always the last argument.
      const ack = typeof args.at(-1) === 'function' ? (args.pop() as AckFn) : undefined;
      void handler(this, args[0], ack);
    },
  ]);

  /** Metrics, ack or `chat:error`, and the error mapping shared by every client event. */
  private async handle(
    event: string,
    socket: Socket,
    ack: AckFn | undefined,
    fn: (auth: Authenticated, requestId: string) => Promise<{ reply: object; after?: () => void }>,
  ): Promise<void> {
    const started = performance.now();
    this.metrics.socketEvents.inc({ event });
    const requestId = randomUUID();
    try {
      const conn = this.connections.get(socket);
      if (!conn) {
        throw new ProblemException(401, ErrorCode.Unauthorized, 'Authentication is required.');
      }
      const { reply, after } = await fn(conn.auth, requestId);
      if (typeof ack === 'function') {
        ack({ ok: true, ...reply });
      }
      after?.();
    } catch (err) {
      const { payload, internal } = toWsError(err);
      // Mapped upstream failures (503/504) are expected outcomes, counted by their own metrics.
      if (internal && !(err instanceof ProblemException)) {
        const e = err instanceof Error ? err : undefined;
        this.logger.error(
          { request_id: requestId, event, err_name: e?.name, err_message: e ? maskPii(e.message) : undefined },
          'socket event failed',
        );
      }
      const error: AckError = { code: payload.code, message: payload.message };
      if (payload.retry_after !== undefined) {
        error.retry_after = payload.retry_after;
      }
      if (err instanceof ProblemException && err.problemOptions.errors) {
        error.errors = err.problemOptions.errors;
      }
      if (typeof ack === 'function') {
        ack({ ok: false, error });
      } else {
        socket.emit(SocketEvent.Error, { ...error, event });
      }
    } finally {
      this.metrics.socketEventDuration.observe({ event }, (performance.now() - started) / 1000);
    }
  }

  private clientIp(socket: Socket): string {
    const t = this.trust;
    // The same trust rule as Fastify's req.ip: X-Forwarded-For only from TRUST_PROXY peers.
    const ip = t === false ? socket.request.socket.remoteAddress : proxyAddr(socket.request, t);
    return normalizeIp(ip ?? 'unknown');
  }
}

/** zod → `invalid_payload` with per-field messages; the socket stays connected. */
function parse<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const r = schema.safeParse(body);
  if (r.success) {
    return r.data;
  }
  throw new ProblemException(400, ErrorCode.InvalidPayload, 'The event payload is invalid.', {
    errors: r.error.issues.map((i) => ({ field: i.path.join('.') || '(payload)', message: i.message })),
  });
}

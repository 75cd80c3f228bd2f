import type { Server as HttpServer } from 'node:http';
import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { MessageMappingProperties } from '@nestjs/websockets';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { Server } from 'socket.io';
import { type BroadcastOptions, SessionAwareAdapter } from 'socket.io-adapter';
import type { Redis } from 'ioredis';
import type { GatewayRuntimeConfig } from '../gateway.config.js';
import type { RedisConnections } from '../redis/redis-connections.service.js';

/**
 * Socket.IO server options of the gateway: path `/socket.io`, heartbeat, payload bound, CORS
 * like the HTTP API, permessage-deflate only when configured, connection state recovery, and the
 * Redis Streams adapter when REDIS_URL is set (rooms and recovery span replicas, the stream capped
 * at SOCKET_RECOVERY_MAX_PACKETS; without Redis the in-memory adapter, one replica, bounded the
 * same way by {@link boundedRecoveryAdapter}).
 */
export class GatewayIoAdapter extends IoAdapter {
  private client?: Redis;

  constructor(
    app: INestApplicationContext,
    private readonly config: GatewayRuntimeConfig,
    private readonly redis: RedisConnections,
  ) {
    super(app);
  }

  // Nest pins its own socket.io copy; the server is built from the app's (the one the Redis
  // adapter and our types use), so it is returned under Nest's declared type.
  override createIOServer(port: number, options?: object): ReturnType<IoAdapter['createIOServer']> {
    if (port !== 0 || !this.httpServer) {
      throw new Error('Socket.IO must share the gateway HTTP server (port 0).');
    }
    const c = this.config;
    const wildcard = c.CORS_ORIGINS.includes('*');
    const server = new Server(this.httpServer as HttpServer, {
      ...options,
      path: '/socket.io',
      serveClient: true,
      pingInterval: c.SOCKET_PING_INTERVAL_MS,
      pingTimeout: c.SOCKET_PING_TIMEOUT_MS,
      maxHttpBufferSize: c.SOCKET_MAX_PAYLOAD_BYTES,
      // Explicit, whatever the engine's default: a zlib context per socket is the largest
      // per-socket cost when on.
      perMessageDeflate: c.SOCKET_PER_MESSAGE_DEFLATE ? { threshold: 1024 } : false,
      // Only long-polling needs CORS (browsers do not apply it to WebSocket upgrades).
      cors: wildcard
        ? { origin: '*', credentials: false }
        : c.CORS_ORIGINS.length
          ? { origin: c.CORS_ORIGINS, credentials: true }
          : undefined,
      ...(c.SOCKET_RECOVERY_WINDOW_MS > 0
        ? {
            // Middlewares run again on recovery: a recovered socket is re-authenticated.
            connectionStateRecovery: { maxDisconnectionDuration: c.SOCKET_RECOVERY_WINDOW_MS, skipMiddlewares: false },
            adapter: boundedRecoveryAdapter(c.SOCKET_RECOVERY_MAX_PACKETS, c.SOCKET_RECOVERY_WINDOW_MS),
          }
        : {}),
    });
    this.client ??= this.redis.adapter();
    const redis = this.client;
    if (redis) {
      server.adapter(
        createAdapter(redis, {
          streamName: `${c.SOCKET_REDIS_PREFIX}stream`,
          channelPrefix: `${c.SOCKET_REDIS_PREFIX}ch`,
          sessionKeyPrefix: `${c.SOCKET_REDIS_PREFIX}recovery:`,
          // Bounds how long a closing replica waits for its blocking XREAD; delivery latency is unaffected.
          blockTimeInMs: 2000,
          onlyPlaintext: true,
          // The recovery buffer is this stream: bounded in entries, not only in time.
          maxLen: c.SOCKET_RECOVERY_MAX_PACKETS,
        }),
      );
    }
    return server as unknown as ReturnType<IoAdapter['createIOServer']>;
  }

  /**
   * ChatGateway has no @SubscribeMessage handlers (it listens itself, see ChatGateway.listen),
   * yet Nest's adapter would still build a disconnect observable per socket (fromEvent, share,
   * first: four Observables and their closures, kept in a WeakMap for the socket's life).
   */
  override bindMessageHandlers(
    socket: Parameters<IoAdapter['bindMessageHandlers']>[0],
    handlers: MessageMappingProperties[],
    transform: Parameters<IoAdapter['bindMessageHandlers']>[2],
  ): void {
    if (handlers.length > 0) {
      super.bindMessageHandlers(socket, handlers, transform);
    }
  }

  /**
   * Nest's disconnect hook is a per-socket `once` listener (a wrapper, its state, a bound
   * function and two closures). ChatGateway registers one listener shared by every socket
   * instead, so Nest's OnGatewayDisconnect is not used by the gateway's sockets.
   */
  override bindClientDisconnect(): void {
    // Deliberately empty: see ChatGateway.listen.
  }
}

interface StoredPacket {
  emittedAt: number;
}

/**
 * The in-memory recovery buffer (one replica, no Redis). socket.io's SessionAwareAdapter keeps
 * every broadcast packet (each chat token) and drops expired ones once a minute only, so it holds
 * window + 60 s of traffic whatever the rate. This one also trims as it goes: packets older than
 * the window, then the oldest beyond `maxPackets`, like the Redis stream's bound. A client whose
 * offset was trimmed reconnects without recovery, as after the window.
 */
export function boundedRecoveryAdapter(maxPackets: number, windowMs: number): typeof SessionAwareAdapter {
  // Splicing the array's head costs its length: trim at most once a second, or once an eighth over.
  const slack = Math.max(1, maxPackets >> 3);
  return class BoundedSessionAwareAdapter extends SessionAwareAdapter {
    private nextTrim = 0;

    override broadcast(packet: unknown, opts: BroadcastOptions): void {
      super.broadcast(packet, opts);
      // The library's own (private) buffer: the only handle on what it keeps.
      const packets = (this as unknown as { packets: StoredPacket[] }).packets;
      const now = Date.now();
      if (packets.length > maxPackets + slack || now >= this.nextTrim) {
        this.nextTrim = now + 1000;
        trimRecoveryPackets(packets, maxPackets, now - windowMs);
      }
    }
  };
}

/** Drops, oldest first, the packets emitted before `threshold` and those beyond `max`. */
export function trimRecoveryPackets(packets: StoredPacket[], max: number, threshold: number): void {
  let drop = 0;
  for (const packet of packets) {
    if (packet.emittedAt >= threshold) {
      break;
    }
    drop++;
  }
  drop = Math.max(drop, packets.length - max);
  if (drop > 0) {
    packets.splice(0, drop);
  }
}

/**
 * The stream holds streamed chat text: trimmed by age (MINID: entries older than the recovery
 * window, stream ids being millisecond timestamps) instead of the adapter's MAXLEN, so erased
 * or simply old text does not outlive the window in Redis. Exported for its unit test.
 */
export function trimByAge(args: unknown[], recoveryWindowMs: number): unknown[] {
  if (args[1] !== 'MAXLEN' || args[2] !== '~') {
    return args;
  }
  const minId = `${Date.now() - Math.max(recoveryWindowMs, 1000)}-0`;
  return [args[0], 'MINID', '~', minId, ...args.slice(4)];
}

interface WsReceiverInternals {
  _mask?: unknown;
}

/**
 * ws keeps the mask of the last frame it received as a 4-byte view into that frame's TCP chunk,
 * so the whole chunk stays in memory until the client's next frame (its pong, up to
 * SOCKET_PING_INTERVAL_MS later). Right after the handshake that chunk is the CONNECT frame with
 * the bearer token: about 1 KiB per socket, and a copy of the token. Replacing the view with a
 * copy of the same 4 bytes is correct in any receiver state and lets the chunk go. It reaches
 * into ws 8's private fields (engine.io transport → ws WebSocket → Receiver): when their shape
 * changes it does nothing, and its unit spec, which runs a real ws Receiver, fails.
 */
export function releaseLastFrameChunk(socket: { conn: unknown }): void {
  const conn = socket.conn as { transport?: { socket?: { _receiver?: WsReceiverInternals } } } | undefined;
  const receiver = conn?.transport?.socket?._receiver;
  const mask = receiver?._mask;
  if (receiver && Buffer.isBuffer(mask) && mask.buffer.byteLength > mask.length) {
    receiver._mask = Buffer.from(mask);
  }
}

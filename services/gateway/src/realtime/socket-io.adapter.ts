import type { Server as HttpServer } from 'node:http';
import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { Server } from 'socket.io';
import type { Redis } from 'ioredis';
import type { GatewayRuntimeConfig } from '../gateway.config.js';
import type { RedisConnections } from '../redis/redis-connections.service.js';

/**
 * Socket.IO server options of the gateway: path `/socket.io`, heartbeat, payload bound, CORS
 * like the HTTP API, permessage-deflate only when configured, connection state recovery, and the
 * Redis Streams adapter when REDIS_URL is set (rooms and recovery span replicas, the stream capped
 * at SOCKET_RECOVERY_MAX_PACKETS; without Redis the in-memory adapter, one replica, bounded by the
 * recovery window only).
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

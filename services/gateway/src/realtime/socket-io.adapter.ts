import type { Server as HttpServer } from 'node:http';
import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import type { GatewayRuntimeConfig } from '../gateway.config.js';

/**
 * Socket.IO server options of the gateway: path `/socket.io`, heartbeat, payload bound, CORS
 * like the HTTP API, connection state recovery, and the Redis Streams adapter when REDIS_URL is
 * set (rooms and recovery span replicas; without Redis the in-memory adapter, one replica).
 */
export class GatewayIoAdapter extends IoAdapter {
  private redis?: Redis;

  constructor(
    app: INestApplicationContext,
    private readonly config: GatewayRuntimeConfig,
  ) {
    super(app);
  }

  // Nest pins its own socket.io copy; the server is built from the app's (the one the Redis
  // adapter and our types use), so it is returned under Nest's declared type.
  override createIOServer(port: number, options?: object): ReturnType<IoAdapter['createIOServer']> {
    if (port !== 0 || !this.httpServer) throw new Error('Socket.IO must share the gateway HTTP server (port 0).');
    const c = this.config;
    const wildcard = c.CORS_ORIGINS.includes('*');
    const server = new Server(this.httpServer as HttpServer, {
      ...options,
      path: '/socket.io',
      serveClient: true,
      pingInterval: c.SOCKET_PING_INTERVAL_MS,
      pingTimeout: c.SOCKET_PING_TIMEOUT_MS,
      maxHttpBufferSize: c.SOCKET_MAX_PAYLOAD_BYTES,
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
    if (c.REDIS_URL) {
      this.redis ??= failFastPublishing(
        new Redis(c.REDIS_URL, { retryStrategy: (times) => Math.min(200 * times, 5000) }),
        c.SOCKET_RECOVERY_WINDOW_MS,
      );
      // Without a listener ioredis logs every failed reconnect as an unhandled error.
      this.redis.on('error', () => undefined);
      server.adapter(
        createAdapter(this.redis, {
          streamName: `${c.SOCKET_REDIS_PREFIX}stream`,
          channelPrefix: `${c.SOCKET_REDIS_PREFIX}ch`,
          sessionKeyPrefix: `${c.SOCKET_REDIS_PREFIX}recovery:`,
          // Bounds how long a closing replica waits for its blocking XREAD; delivery latency is unaffected.
          blockTimeInMs: 2000,
          onlyPlaintext: true,
        }),
      );
    }
    return server as unknown as ReturnType<IoAdapter['createIOServer']>;
  }

  override async dispose(): Promise<void> {
    await super.dispose();
    if (!this.redis) return;
    if (this.redis.status !== 'ready') return this.redis.disconnect();
    await this.redis.quit().catch(() => this.redis?.disconnect());
  }
}

/**
 * While Redis is down, publishing (XADD) fails at once instead of waiting in the offline queue:
 * the adapter then delivers the broadcast to this replica's sockets only, so a chat streamed by
 * this replica keeps flowing to its own sockets rather than hanging until Redis is back. The
 * blocking XREAD poller keeps the offline queue, so it waits rather than spinning.
 */
function failFastPublishing(redis: Redis, recoveryWindowMs: number): Redis {
  const xadd = redis.xadd.bind(redis) as (...args: unknown[]) => Promise<unknown>;
  (redis as unknown as { xadd: (...args: unknown[]) => Promise<unknown> }).xadd = (...args) =>
    redis.status === 'ready'
      ? xadd(...trimByAge(args, recoveryWindowMs))
      : Promise.reject(new Error('Redis is unavailable'));
  return redis;
}

/**
 * The stream holds streamed chat text: trimmed by age (MINID: entries older than the recovery
 * window, stream ids being millisecond timestamps) instead of the adapter's MAXLEN, so erased
 * or simply old text does not outlive the window in Redis. Exported for its unit test.
 */
export function trimByAge(args: unknown[], recoveryWindowMs: number): unknown[] {
  if (args[1] !== 'MAXLEN' || args[2] !== '~') return args;
  const minId = `${Date.now() - Math.max(recoveryWindowMs, 1000)}-0`;
  return [args[0], 'MINID', '~', minId, ...args.slice(4)];
}

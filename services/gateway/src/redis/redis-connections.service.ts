import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { GATEWAY_CONFIG, type GatewayRuntimeConfig } from '../gateway.config.js';

/** Reconnect forever in the background, backing off to 5 s; callers never wait for it. */
const retryStrategy = (times: number): number => Math.min(200 * times, 5000);

/**
 * A client for commands answered inline (rate-limit counters, the realtime registry): no offline
 * queue and no per-request retries, so while Redis is down a command fails at once instead of
 * holding the request; bounded by `commandTimeoutMs`.
 */
export function createCommandClient(url: string, commandTimeoutMs: number): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: commandTimeoutMs,
    connectTimeout: Math.max(1000, commandTimeoutMs),
    retryStrategy,
  });
}

/** Quits when connected; otherwise disconnects, which also stops the reconnect timer. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status !== 'ready') {
    return redis.disconnect();
  }
  await redis.quit().catch(() => redis.disconnect());
}

/**
 * The gateway's Redis clients, created and closed in one place (after the HTTP and Socket.IO
 * servers are closed: Nest runs shutdown hooks after disposing them). Without REDIS_URL there
 * are none and every user falls back to its in-memory behaviour.
 */
@Injectable()
export class RedisConnections implements OnApplicationShutdown {
  private readonly clients: Redis[] = [];

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayRuntimeConfig) {}

  /** A fail-fast command client (see createCommandClient); `onError` sees connection errors. */
  commands(onError: (err: Error) => void): Redis | undefined {
    if (!this.config.REDIS_URL) {
      return undefined;
    }
    return this.track(createCommandClient(this.config.REDIS_URL, this.config.REDIS_COMMAND_TIMEOUT_MS), onError);
  }

  /**
   * The Socket.IO Redis Streams adapter's client. It keeps ioredis's offline queue and retry
   * defaults so the blocking XREAD poller waits for Redis rather than spinning (a capped
   * maxRetriesPerRequest crashed the boot without Redis); only publishing fails fast.
   */
  adapter(): Redis | undefined {
    if (!this.config.REDIS_URL) {
      return undefined;
    }
    // Without a listener ioredis logs every failed reconnect as an unhandled error.
    return this.track(
      failFastPublishing(new Redis(this.config.REDIS_URL, { retryStrategy }), this.config.SOCKET_RECOVERY_WINDOW_MS),
      () => undefined,
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.clients.splice(0).map(closeRedis));
  }

  private track(redis: Redis, onError: (err: Error) => void): Redis {
    redis.on('error', onError);
    this.clients.push(redis);
    return redis;
  }
}

/**
 * While Redis is down, publishing (XADD) fails at once instead of waiting in the offline queue:
 * the adapter then delivers the broadcast to this replica's sockets only, so a chat streamed by
 * this replica keeps flowing to its own sockets rather than hanging until Redis is back.
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
  if (args[1] !== 'MAXLEN' || args[2] !== '~') {
    return args;
  }
  const minId = `${Date.now() - Math.max(recoveryWindowMs, 1000)}-0`;
  return [args[0], 'MINID', '~', minId, ...args.slice(4)];
}

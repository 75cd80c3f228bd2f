import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { PinoLogger } from 'nestjs-pino';
import { GATEWAY_CONFIG, type GatewayRuntimeConfig } from '../gateway.config.js';

/**
 * Who owns in-flight sessions and running messages, shared by every replica through Redis when
 * REDIS_URL is set (a session started on replica A can be joined from replica B before the agent
 * has written its row). Run owners need no registry: they are in the run's event log. Without Redis, or while
 * Redis is down, the local copy answers: one replica sees what it started itself.
 */
@Injectable()
export class RealtimeRegistry implements OnApplicationShutdown {
  private readonly local = new Map<string, { owner: string; expiresAt: number }>();
  private readonly redis?: Redis;
  private readonly sweeper: NodeJS.Timeout;
  private redisDown = false;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayRuntimeConfig,
    private readonly logger: PinoLogger,
  ) {
    if (config.REDIS_URL) {
      this.redis = new Redis(config.REDIS_URL, {
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        commandTimeout: config.REDIS_COMMAND_TIMEOUT_MS,
        retryStrategy: (times) => Math.min(200 * times, 5000),
      });
      this.redis.on('error', (err: Error) => this.down(err));
    }
    this.sweeper = setInterval(() => {
      const now = Date.now();
      for (const [k, v] of this.local) if (v.expiresAt <= now) this.local.delete(k);
    }, 60000);
    this.sweeper.unref();
  }

  rememberSession(sessionId: string, userId: string): Promise<void> {
    return this.set(`session:${sessionId}`, userId, this.config.SOCKET_SESSION_TTL_S * 1000);
  }

  sessionOwner(sessionId: string): Promise<string | undefined> {
    return this.get(`session:${sessionId}`);
  }

  private async set(key: string, owner: string, ttlMs: number): Promise<void> {
    this.local.set(key, { owner, expiresAt: Date.now() + ttlMs });
    if (this.redis?.status !== 'ready') return;
    await this.redis.set(this.key(key), owner, 'PX', ttlMs).then(
      () => this.up(),
      (err: Error) => this.down(err),
    );
  }

  private async get(key: string): Promise<string | undefined> {
    const mine = this.local.get(key);
    if (mine && mine.expiresAt > Date.now()) return mine.owner;
    if (this.redis?.status !== 'ready') return undefined;
    try {
      const v = await this.redis.get(this.key(key));
      this.up();
      return v ?? undefined;
    } catch (err) {
      this.down(err as Error);
      return undefined;
    }
  }

  private key(k: string): string {
    return `${this.config.SOCKET_REDIS_PREFIX}${k}`;
  }

  private up(): void {
    if (!this.redisDown) return;
    this.redisDown = false;
    this.logger.info('realtime registry: Redis recovered');
  }

  private down(err: Error): void {
    if (this.redisDown) return;
    this.redisDown = true;
    this.logger.warn({ err_message: err.message }, 'realtime registry: Redis unavailable, using local state');
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.sweeper);
    if (!this.redis) return;
    if (this.redis.status !== 'ready') return this.redis.disconnect();
    await this.redis.quit().catch(() => this.redis?.disconnect());
  }
}

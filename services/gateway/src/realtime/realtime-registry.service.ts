import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { PinoLogger } from 'nestjs-pino';
import { GATEWAY_CONFIG, type GatewayRuntimeConfig } from '../gateway.config.js';
import { RedisConnections } from '../redis/redis-connections.service.js';

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
    connections: RedisConnections,
  ) {
    this.redis = connections.commands((err) => this.down(err));
    this.sweeper = setInterval(() => {
      const now = Date.now();
      for (const [k, v] of this.local) {
        if (v.expiresAt <= now) {
          this.local.delete(k);
        }
      }
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
    if (this.redis?.status !== 'ready') {
      return;
    }
    await this.redis.set(this.key(key), owner, 'PX', ttlMs).then(
      () => this.up(),
      (err: Error) => this.down(err),
    );
  }

  private async get(key: string): Promise<string | undefined> {
    const mine = this.local.get(key);
    if (mine && mine.expiresAt > Date.now()) {
      return mine.owner;
    }
    if (this.redis?.status !== 'ready') {
      return undefined;
    }
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
    if (!this.redisDown) {
      return;
    }
    this.redisDown = false;
    this.logger.info('realtime registry: Redis recovered');
  }

  private down(err: Error): void {
    if (this.redisDown) {
      return;
    }
    this.redisDown = true;
    this.logger.warn({ err_message: err.message }, 'realtime registry: Redis unavailable, using local state');
  }

  onApplicationShutdown(): void {
    // The Redis client is closed by RedisConnections.
    clearInterval(this.sweeper);
  }
}

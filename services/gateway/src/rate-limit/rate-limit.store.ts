import type { Redis } from 'ioredis';

/** A fixed window: how many hits it holds and when it ends. */
export interface WindowState {
  hits: number;
  /** Milliseconds until the window (and any block it causes) ends. */
  resetMs: number;
}

/** Counters behind every rate-limit tier and the failed-login limiter. */
export interface RateLimitStore {
  readonly kind: 'memory' | 'redis';
  /** Counts one hit, opening a window of `windowMs` on the first one. Atomic. */
  increment(key: string, windowMs: number): Promise<WindowState>;
  /** Reads a window without counting. */
  peek(key: string): Promise<WindowState>;
  close(): Promise<void>;
}

/** The store could not answer (Redis down or slow); the caller applies the fail mode. */
export class RateLimitStoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`rate-limit store unavailable: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'RateLimitStoreUnavailableError';
  }
}

/** One replica only: counters die with the process. */
export class MemoryRateLimitStore implements RateLimitStore {
  readonly kind = 'memory' as const;
  private readonly windows = new Map<string, { hits: number; endsAt: number }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(sweepEveryMs = 60000) {
    this.sweeper = setInterval(() => {
      const now = Date.now();
      for (const [k, w] of this.windows) {
        if (w.endsAt <= now) {
          this.windows.delete(k);
        }
      }
    }, sweepEveryMs);
    this.sweeper.unref();
  }

  increment(key: string, windowMs: number): Promise<WindowState> {
    const now = Date.now();
    let w = this.windows.get(key);
    if (!w || w.endsAt <= now) {
      w = { hits: 0, endsAt: now + windowMs };
      this.windows.set(key, w);
    }
    w.hits++;
    return Promise.resolve({ hits: w.hits, resetMs: w.endsAt - now });
  }

  peek(key: string): Promise<WindowState> {
    const now = Date.now();
    const w = this.windows.get(key);
    return Promise.resolve(w && w.endsAt > now ? { hits: w.hits, resetMs: w.endsAt - now } : { hits: 0, resetMs: 0 });
  }

  close(): Promise<void> {
    clearInterval(this.sweeper);
    this.windows.clear();
    return Promise.resolve();
  }
}

// INCR and the first PEXPIRE in one script, so concurrent replicas can never leave a window
// without expiry or count a hit into an expired window.
const INCREMENT = `
local hits = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {hits, ttl}`;

const PEEK = `
local v = redis.call('GET', KEYS[1])
if not v then return {0, 0} end
return {tonumber(v), redis.call('PTTL', KEYS[1])}`;

interface ScriptedRedis extends Redis {
  rlIncrement(key: string, windowMs: number): Promise<[number, number]>;
  rlPeek(key: string): Promise<[number, number]>;
}

/** Counters shared by every replica, on a fail-fast command client (RedisConnections.commands). */
export class RedisRateLimitStore implements RateLimitStore {
  readonly kind = 'redis' as const;
  private readonly redis: ScriptedRedis;

  constructor(redis: Redis) {
    redis.defineCommand('rlIncrement', { numberOfKeys: 1, lua: INCREMENT });
    redis.defineCommand('rlPeek', { numberOfKeys: 1, lua: PEEK });
    this.redis = redis as ScriptedRedis;
  }

  get ready(): boolean {
    return this.redis.status === 'ready';
  }

  /** Resolves true once connected, false if that takes longer than `timeoutMs`. */
  async waitReady(timeoutMs: number): Promise<boolean> {
    if (this.ready) {
      return true;
    }
    return new Promise((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        this.redis.off('ready', onReady);
        resolve(ok);
      };
      const onReady = (): void => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.redis.once('ready', onReady);
    });
  }

  async increment(key: string, windowMs: number): Promise<WindowState> {
    try {
      const [hits, ttl] = await this.redis.rlIncrement(key, windowMs);
      return { hits: Number(hits), resetMs: Math.max(0, Number(ttl)) };
    } catch (err) {
      throw new RateLimitStoreUnavailableError(err);
    }
  }

  async peek(key: string): Promise<WindowState> {
    try {
      const [hits, ttl] = await this.redis.rlPeek(key);
      return { hits: Number(hits), resetMs: Math.max(0, Number(ttl)) };
    } catch (err) {
      throw new RateLimitStoreUnavailableError(err);
    }
  }

  /** The client belongs to whoever created it (RedisConnections closes the gateway's). */
  close(): Promise<void> {
    return Promise.resolve();
  }
}

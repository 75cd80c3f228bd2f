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
  /**
   * Counts one hit, opening a window of `windowMs` on the first one. Atomic. With `limit`, a
   * store may count a small batch at once and hand it out locally (RedisRateLimitStore's lease);
   * without it, every hit is counted where every replica sees it.
   */
  increment(key: string, windowMs: number, limit?: number): Promise<WindowState>;
  /**
   * `increment` when this replica can answer without I/O (the memory store always; the Redis store
   * from a lease it holds), else `undefined` and nothing is counted: call `increment`.
   */
  incrementNow(key: string, windowMs: number, limit?: number): WindowState | undefined;
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
    return Promise.resolve(this.incrementNow(key, windowMs));
  }

  incrementNow(key: string, windowMs: number): WindowState {
    const now = Date.now();
    let w = this.windows.get(key);
    if (!w || w.endsAt <= now) {
      w = { hits: 0, endsAt: now + windowMs };
      this.windows.set(key, w);
    }
    w.hits++;
    return { hits: w.hits, resetMs: w.endsAt - now };
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

// A lease: counts `grant` hits at once, which this replica then hands out without a round trip.
// The grant is an eighth of what is left of the limit (at most ARGV[3]), so the leased hits can
// never take the counter past the limit, and near the limit every hit is counted one by one.
const LEASE = `
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local left = tonumber(ARGV[2]) - cur
local grant = 1
if left >= 16 then
  grant = math.min(tonumber(ARGV[3]), math.floor(left / 8))
end
local hits = redis.call('INCRBY', KEYS[1], grant)
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {hits, ttl, grant}`;

const PEEK = `
local v = redis.call('GET', KEYS[1])
if not v then return {0, 0} end
return {tonumber(v), redis.call('PTTL', KEYS[1])}`;

interface ScriptedRedis extends Redis {
  rlIncrement(key: string, windowMs: number): Promise<[number, number]>;
  rlLease(key: string, windowMs: number, limit: number, maxGrant: number): Promise<[number, number, number]>;
  rlPeek(key: string): Promise<[number, number]>;
}

/** Hits this replica counted in Redis ahead of time and has not handed out yet. */
interface Lease {
  left: number;
  /** The Redis counter when the lease was taken (it includes the whole grant). */
  total: number;
  endsAt: number;
}

const MAX_LEASES = 10000;

/**
 * Counters shared by every replica, on a fail-fast command client (RedisConnections.commands).
 *
 * With `leaseMax` > 1, a hit that comes with its limit takes a lease: Redis counts up to
 * `leaseMax` hits at once (an eighth of what is left, never past the limit) and this replica
 * hands them out locally until they run out or the window ends, so a busy key costs one round
 * trip per batch instead of one per request. Never more than the limit is let through; what
 * changes is that another replica may refuse while this one still holds unused hits (at most an
 * eighth of what was left when it leased), and that the counter in Redis runs ahead by them.
 */
export class RedisRateLimitStore implements RateLimitStore {
  readonly kind = 'redis' as const;
  private readonly redis: ScriptedRedis;
  private readonly leases = new Map<string, Lease>();

  constructor(
    redis: Redis,
    private readonly leaseMax = 1,
  ) {
    redis.defineCommand('rlIncrement', { numberOfKeys: 1, lua: INCREMENT });
    redis.defineCommand('rlLease', { numberOfKeys: 1, lua: LEASE });
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

  async increment(key: string, windowMs: number, limit?: number): Promise<WindowState> {
    if (limit !== undefined && this.leaseMax > 1) {
      return this.leased(key, windowMs, limit);
    }
    try {
      const [hits, ttl] = await this.redis.rlIncrement(key, windowMs);
      return { hits: Number(hits), resetMs: Math.max(0, Number(ttl)) };
    } catch (err) {
      throw new RateLimitStoreUnavailableError(err);
    }
  }

  incrementNow(key: string, _windowMs: number, limit?: number): WindowState | undefined {
    if (limit === undefined || this.leaseMax <= 1) {
      return undefined;
    }
    const now = Date.now();
    const lease = this.leases.get(key);
    if (lease && lease.left > 0 && lease.endsAt > now) {
      lease.left--;
      return { hits: lease.total - lease.left, resetMs: lease.endsAt - now };
    }
    return undefined;
  }

  private async leased(key: string, windowMs: number, limit: number): Promise<WindowState> {
    const local = this.incrementNow(key, windowMs, limit);
    if (local) {
      return local;
    }
    let reply: [number, number, number];
    try {
      reply = await this.redis.rlLease(key, windowMs, limit, this.leaseMax);
    } catch (err) {
      throw new RateLimitStoreUnavailableError(err);
    }
    const [counted, ttl, grant] = reply.map(Number) as [number, number, number];
    const resetMs = Math.max(0, ttl);
    const at = Date.now();
    // Requests that missed together each took a grant: what an earlier one left in this window is
    // kept, and the newest counter (which includes every grant) is the total. A counter below the
    // lease's means Redis started a new window (the counter only grows within one).
    const prev = this.leases.get(key);
    const same = prev !== undefined && prev.endsAt > at && counted >= prev.total;
    const left = (same ? prev.left : 0) + grant - 1;
    const total = counted;
    if (left > 0) {
      if (!prev && this.leases.size >= MAX_LEASES) {
        // Forgetting a lease only gives its hits up (a refusal may come early), never away.
        this.leases.delete(this.leases.keys().next().value!);
      }
      this.leases.set(key, { left, total, endsAt: at + resetMs });
    } else {
      this.leases.delete(key);
    }
    // Everything counted so far minus the hits this replica holds and has not handed out.
    return { hits: total - left, resetMs };
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
    this.leases.clear();
    return Promise.resolve();
  }
}

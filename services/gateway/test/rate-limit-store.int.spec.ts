import { uniquePrefix } from '@neonpro/testing';
import type { Redis } from 'ioredis';
import { RateLimitStoreUnavailableError, RedisRateLimitStore } from '../src/rate-limit/rate-limit.store.js';
import { closeRedis, createCommandClient } from '../src/redis/redis-connections.service.js';

// The Redis store against the real Redis; the memory store's unit spec sits beside the code.
const clients: Redis[] = [];
function client(url: string, timeoutMs: number): Redis {
  const redis = createCommandClient(url, timeoutMs);
  redis.on('error', () => undefined);
  clients.push(redis);
  return redis;
}
const make = () => new RedisRateLimitStore(client('redis://127.0.0.1:6379', 1000));
afterAll(() => Promise.all(clients.map(closeRedis)));

describe('redis rate-limit store', () => {
  it('counts atomically in a fixed window and peeks without counting', async () => {
    const store = make();
    expect(await store.waitReady(5000)).toBe(true);
    try {
      const key = `${uniquePrefix('rl-store')}:k`;
      expect(await store.peek(key)).toEqual({ hits: 0, resetMs: 0 });
      const hits = await Promise.all(Array.from({ length: 20 }, () => store.increment(key, 60000)));
      expect(hits.map((h) => h.hits).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      const peek = await store.peek(key);
      expect(peek.hits).toBe(20);
      expect(peek.resetMs).toBeGreaterThan(50000);
      expect(peek.resetMs).toBeLessThanOrEqual(60000);
    } finally {
      await store.close();
    }
  });

  it('starts a new window once the old one ends', async () => {
    const store = make();
    expect(await store.waitReady(5000)).toBe(true);
    try {
      const key = `${uniquePrefix('rl-store')}:w`;
      await store.increment(key, 30);
      await store.increment(key, 30);
      await new Promise((r) => setTimeout(r, 60));
      expect((await store.increment(key, 30)).hits).toBe(1);
    } finally {
      await store.close();
    }
  });
});

describe('redis rate-limit store with leases (RATE_LIMIT_LEASE_MAX)', () => {
  const accepted = (states: { hits: number }[], limit: number) => states.filter((s) => s.hits <= limit).length;
  /** Two leasing replicas on the real Redis, ready, closed afterwards. */
  async function replicas(fn: (a: RedisRateLimitStore, b: RedisRateLimitStore) => Promise<void>): Promise<void> {
    const [a, b] = [0, 1].map(() => new RedisRateLimitStore(client('redis://127.0.0.1:6379', 1000), 16)) as [
      RedisRateLimitStore,
      RedisRateLimitStore,
    ];
    try {
      expect(await a.waitReady(5000)).toBe(true);
      expect(await b.waitReady(5000)).toBe(true);
      await fn(a, b);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  }

  it('two replicas never let more than the limit through, and refuse early by at most an eighth', () =>
    replicas(async (a, b) => {
      const key = `${uniquePrefix('rl-lease')}:shared`;
      const states = [];
      for (let i = 0; i < 150; i++) {
        states.push(await (i % 2 ? a : b).increment(key, 60000, 100));
      }
      const ok = accepted(states, 100);
      expect(ok).toBeLessThanOrEqual(100);
      expect(ok).toBeGreaterThanOrEqual(100 - 100 / 8);
      // Reported hits never run backwards on one replica.
      const fromA = states.filter((_s, i) => i % 2).map((s) => s.hits);
      expect([...fromA].sort((x, y) => x - y)).toEqual(fromA);
    }));

  it('concurrent hits on two replicas stay within the limit', () =>
    replicas(async (a, b) => {
      const key = `${uniquePrefix('rl-lease')}:burst`;
      const states = await Promise.all(
        Array.from({ length: 200 }, (_v, i) => (i % 2 ? a : b).increment(key, 60000, 50)),
      );
      expect(accepted(states, 50)).toBeLessThanOrEqual(50);
      expect(accepted(states, 50)).toBeGreaterThan(0);
    }));

  it('counts ahead in batches far from the limit, and hit by hit near it', () =>
    replicas(async (store) => {
      const far = `${uniquePrefix('rl-lease')}:far`;
      const states = [];
      for (let i = 0; i < 3; i++) {
        states.push(await store.increment(far, 60000, 1000));
      }
      expect(states.map((s) => s.hits)).toEqual([1, 2, 3]);
      // One batch of 16 was counted in Redis for the three hits.
      expect((await store.peek(far)).hits).toBe(16);

      const near = `${uniquePrefix('rl-lease')}:near`;
      for (let i = 0; i < 12; i++) {
        await store.increment(near, 60000, 10);
      }
      // Below 16 left, every hit is its own count: exactly what was asked, refusals included.
      expect((await store.peek(near)).hits).toBe(12);
    }));

  it('incrementNow hands out a held lease without Redis, and answers nothing without one', () =>
    replicas(async (store, other) => {
      const key = `${uniquePrefix('rl-lease')}:now`;
      expect(store.incrementNow(key, 60000, 1000)).toBeUndefined();
      expect(store.incrementNow(key, 60000)).toBeUndefined();
      expect((await store.peek(key)).hits).toBe(0);
      expect((await store.increment(key, 60000, 1000)).hits).toBe(1);
      // The rest of the batch of 16, then nothing: the next hit needs Redis.
      const local = Array.from({ length: 16 }, () => store.incrementNow(key, 60000, 1000)?.hits);
      expect(local).toEqual([...Array.from({ length: 15 }, (_v, i) => i + 2), undefined]);
      expect((await store.peek(key)).hits).toBe(16);
      // A replica without a lease on the key has nothing to hand out.
      expect(other.incrementNow(key, 60000, 1000)).toBeUndefined();
      expect((await store.increment(key, 60000, 1000)).hits).toBe(17);
    }));

  it('without a limit (failed logins) every hit is counted in Redis', () =>
    replicas(async (store) => {
      const key = `${uniquePrefix('rl-lease')}:exact`;
      await store.increment(key, 60000);
      await store.increment(key, 60000);
      expect((await store.peek(key)).hits).toBe(2);
    }));
});

it('a Redis store on a closed port fails fast with RateLimitStoreUnavailableError', async () => {
  const store = new RedisRateLimitStore(client('redis://127.0.0.1:1', 200));
  try {
    await expect(store.increment('k', 1000)).rejects.toBeInstanceOf(RateLimitStoreUnavailableError);
  } finally {
    await store.close();
  }
});

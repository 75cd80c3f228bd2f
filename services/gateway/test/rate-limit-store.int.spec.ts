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

it('a Redis store on a closed port fails fast with RateLimitStoreUnavailableError', async () => {
  const store = new RedisRateLimitStore(client('redis://127.0.0.1:1', 200));
  try {
    await expect(store.increment('k', 1000)).rejects.toBeInstanceOf(RateLimitStoreUnavailableError);
  } finally {
    await store.close();
  }
});

import { jest } from '@jest/globals';
import { MemoryRateLimitStore } from './rate-limit.store.js';

// The Redis store is tested against the real Redis in test/rate-limit-store.int.spec.ts.
describe('memory rate-limit store', () => {
  let store: MemoryRateLimitStore;
  beforeEach(() => {
    jest.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
    store = new MemoryRateLimitStore(1000);
  });
  afterEach(async () => {
    await store.close();
    jest.useRealTimers();
  });

  it('counts atomically in a fixed window and peeks without counting', async () => {
    expect(await store.peek('k')).toEqual({ hits: 0, resetMs: 0 });
    const hits = await Promise.all(Array.from({ length: 20 }, () => store.increment('k', 60000)));
    expect(hits.map((h) => h.hits)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    jest.advanceTimersByTime(10000);
    expect(await store.peek('k')).toEqual({ hits: 20, resetMs: 50000 });
    expect(await store.peek('other')).toEqual({ hits: 0, resetMs: 0 });
  });

  it('starts a new window once the old one ends, not before', async () => {
    await store.increment('k', 30);
    await store.increment('k', 30);
    jest.advanceTimersByTime(29);
    expect((await store.increment('k', 30)).hits).toBe(3);
    jest.advanceTimersByTime(1);
    expect(await store.peek('k')).toEqual({ hits: 0, resetMs: 0 });
    expect(await store.increment('k', 30)).toEqual({ hits: 1, resetMs: 30 });
  });

  it('incrementNow counts in the same window as increment, and answers at once', async () => {
    await store.increment('k', 60000);
    expect(store.incrementNow('k', 60000)).toEqual({ hits: 2, resetMs: 60000 });
    jest.advanceTimersByTime(1000);
    expect((await store.increment('k', 60000)).hits).toBe(3);
    expect(store.incrementNow('k', 60000)).toEqual({ hits: 4, resetMs: 59000 });
  });

  it('the sweeper forgets ended windows', async () => {
    await store.increment('a', 500);
    await store.increment('b', 5000);
    jest.advanceTimersByTime(1000);
    const windows = (store as unknown as { windows: Map<string, unknown> }).windows;
    expect([...windows.keys()]).toEqual(['b']);
  });
});

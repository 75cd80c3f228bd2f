import { OverloadedError, RunLimiter } from './run-limiter.js';

describe('RunLimiter', () => {
  it('runs up to the concurrency, queues up to queueMax, then rejects at once', async () => {
    const states: { running: number; queued: number }[] = [];
    const limiter = new RunLimiter(2, 1, (s) => states.push(s));
    const r1 = await limiter.acquire();
    const r2 = await limiter.acquire();
    let thirdGranted = false;
    const third = limiter.acquire().then((release) => {
      thirdGranted = true;
      return release;
    });
    await expect(limiter.acquire()).rejects.toBeInstanceOf(OverloadedError);
    expect(limiter.queued).toBe(1);
    expect(thirdGranted).toBe(false);
    r1();
    const r3 = await third;
    expect(thirdGranted).toBe(true);
    expect(limiter.active).toBe(2);
    expect(limiter.queued).toBe(0);
    r2();
    r3();
    expect(limiter.active).toBe(0);
    expect(states.at(-1)).toEqual({ running: 0, queued: 0 });
  });

  it('serves waiters in FIFO order', async () => {
    const limiter = new RunLimiter(1, 5);
    const first = await limiter.acquire();
    const order: number[] = [];
    const waits = [1, 2, 3].map((n) => limiter.acquire().then((rel) => (order.push(n), rel)));
    first();
    for (const w of waits) {
      (await w)();
    }
    expect(order).toEqual([1, 2, 3]);
  });

  it('drops an aborted waiter from the queue', async () => {
    const limiter = new RunLimiter(1, 5);
    const held = await limiter.acquire();
    const ac = new AbortController();
    const waiting = limiter.acquire(ac.signal);
    expect(limiter.queued).toBe(1);
    ac.abort(new Error('cancelled'));
    await expect(waiting).rejects.toThrow('cancelled');
    expect(limiter.queued).toBe(0);
    held();
    expect(limiter.active).toBe(0);
  });

  it('release is idempotent', async () => {
    const limiter = new RunLimiter(1, 0);
    const rel = await limiter.acquire();
    rel();
    rel();
    expect(limiter.active).toBe(0);
  });
});

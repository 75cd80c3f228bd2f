import { SingleFlight } from './single-flight.js';

/** A load the test settles by hand. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('SingleFlight', () => {
  it('shares one load among the callers of a key while it runs, and loads again after it settles', async () => {
    const flight = new SingleFlight<string, number>();
    const loads: string[] = [];
    const first = deferred<number>();
    const a = flight.run('c1', () => (loads.push('c1'), first.promise));
    const b = flight.run('c1', () => (loads.push('c1 again'), Promise.resolve(-1)));
    const other = flight.run('c2', () => (loads.push('c2'), Promise.resolve(2)));
    first.resolve(1);
    expect(await Promise.all([a, b, other])).toEqual([1, 1, 2]);
    expect(loads).toEqual(['c1', 'c2']);
    expect(await flight.run('c1', () => Promise.resolve(3))).toBe(3);
  });

  it('forgets a failed load, so the next call retries', async () => {
    const flight = new SingleFlight<string, number>();
    const failing = deferred<number>();
    const a = flight.run('c1', () => failing.promise);
    failing.reject(new Error('down'));
    await expect(a).rejects.toThrow('down');
    expect(await flight.run('c1', () => Promise.resolve(4))).toBe(4);
  });
});

import { jest } from '@jest/globals';
import { SocketExpiry } from './socket-expiry.js';

describe('SocketExpiry', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('expires each socket once its second is due, and never a socket that was removed', () => {
    let now = 10_000;
    const expired: string[] = [];
    const wheel = new SocketExpiry<{ id: string }>(
      (s) => expired.push(s.id),
      () => now,
    );
    const a = { id: 'a' };
    const b = { id: 'b' };
    const c = { id: 'c' };
    wheel.add(a, 11_200);
    wheel.add(b, 12_000);
    wheel.add(c, 11_500);
    wheel.delete(c);
    wheel.tick();
    expect(expired).toEqual([]);
    now = 12_000;
    wheel.tick();
    expect(expired).toEqual(['a', 'b']);
    expect(wheel.tracked).toBe(0);
    wheel.stop();
  });

  it('re-adding a socket moves it to its new expiry', () => {
    let now = 0;
    const expired: object[] = [];
    const wheel = new SocketExpiry<object>(
      (s) => expired.push(s),
      () => now,
    );
    const s = {};
    wheel.add(s, 1000);
    wheel.add(s, 5000);
    expect(wheel.tracked).toBe(1);
    now = 2000;
    wheel.tick();
    expect(expired).toEqual([]);
    now = 5000;
    wheel.tick();
    expect(expired).toEqual([s]);
    wheel.stop();
  });
});

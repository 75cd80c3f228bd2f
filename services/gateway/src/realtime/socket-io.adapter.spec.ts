import { jest } from '@jest/globals';
import { Server } from 'socket.io';
import { boundedRecoveryAdapter, trimRecoveryPackets } from './socket-io.adapter.js';

/** A Socket.IO server that is never attached (no port): only its /chat adapter is exercised. */
function serverWith(maxPackets: number, windowMs: number): Server {
  return new Server({
    connectionStateRecovery: { maxDisconnectionDuration: windowMs },
    adapter: boundedRecoveryAdapter(maxPackets, windowMs),
  });
}

/** The adapter's recovery buffer (private in socket.io-adapter). */
const stored = (io: Server): { emittedAt: number }[] =>
  (io.of('/chat').adapter as unknown as { packets: { emittedAt: number }[] }).packets;

describe('boundedRecoveryAdapter (in-memory connection state recovery)', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => {
    jest.clearAllTimers();
    jest.useRealTimers();
  });

  it('keeps at most maxPackets (an eighth more before it trims), however fast tokens are broadcast', () => {
    const io = serverWith(100, 120_000);
    for (let i = 0; i < 5000; i++) {
      io.of('/chat').to('session:s1').emit('chat:token', { seq: i });
    }
    expect(stored(io).length).toBeGreaterThanOrEqual(100);
    expect(stored(io).length).toBeLessThanOrEqual(112);
  });

  it('drops packets older than the window without waiting for the library sweep (once a minute)', () => {
    const io = serverWith(10_000, 1_000);
    for (let i = 0; i < 50; i++) {
      io.of('/chat').to('session:s1').emit('chat:token', { seq: i });
    }
    jest.advanceTimersByTime(2_000);
    io.of('/chat').to('session:s1').emit('chat:token', { seq: 50 });
    expect(stored(io)).toHaveLength(1);
  });
});

describe('trimRecoveryPackets', () => {
  it('drops expired packets and then the oldest beyond the bound, keeping the newest', () => {
    const packets = [1, 2, 3, 4, 5, 6].map((emittedAt) => ({ emittedAt }));
    trimRecoveryPackets(packets, 10, 3);
    expect(packets.map((p) => p.emittedAt)).toEqual([3, 4, 5, 6]);
    trimRecoveryPackets(packets, 2, 0);
    expect(packets.map((p) => p.emittedAt)).toEqual([5, 6]);
  });
});

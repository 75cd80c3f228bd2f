import { createRequire } from 'node:module';
import { jest } from '@jest/globals';
import { Server } from 'socket.io';
import { boundedRecoveryAdapter, releaseLastFrameChunk, trimRecoveryPackets } from './socket-io.adapter.js';

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

describe('releaseLastFrameChunk (the CONNECT frame ws keeps through its mask)', () => {
  interface Receiver {
    _mask?: Buffer;
    on(event: 'message', listener: (data: Buffer) => void): void;
    write(chunk: Buffer): boolean;
  }
  // ws is socket.io's (through engine.io), not one of ours: loaded the way engine.io loads it.
  const { Receiver } = createRequire(import.meta.url)('ws') as {
    Receiver: new (opts: { isServer: boolean }) => Receiver;
  };

  /** A masked client text frame (payload < 126 bytes) at the start of a larger TCP chunk. */
  function chunkWith(text: string, chunkSize: number): Buffer {
    const payload = Buffer.from(text);
    const mask = Buffer.from([1, 2, 3, 4]);
    const chunk = Buffer.alloc(chunkSize);
    chunk[0] = 0x81;
    chunk[1] = 0x80 | payload.length;
    mask.copy(chunk, 2);
    payload.forEach((b, i) => (chunk[6 + i] = b ^ mask[i % 4]!));
    return chunk.subarray(0, 6 + payload.length);
  }

  it('swaps the mask view into the last chunk for a copy; later frames still decode', () => {
    const receiver = new Receiver({ isServer: true });
    const messages: string[] = [];
    receiver.on('message', (data) => messages.push(data.toString()));
    const first = chunkWith('40/chat,{"token":"eyJ…"}', 1024);
    receiver.write(first);
    expect(messages).toEqual(['40/chat,{"token":"eyJ…"}']);
    // What the function is for: ws still holds the chunk through its mask.
    expect(receiver._mask?.buffer).toBe(first.buffer);

    releaseLastFrameChunk({ conn: { transport: { socket: { _receiver: receiver } } } });
    expect(receiver._mask?.buffer).not.toBe(first.buffer);
    expect([...receiver._mask!]).toEqual([1, 2, 3, 4]);

    receiver.write(chunkWith('3', 64));
    expect(messages.at(-1)).toBe('3');
  });

  it('does nothing on another transport (long-polling has no ws receiver)', () => {
    expect(() => releaseLastFrameChunk({ conn: { transport: {} } })).not.toThrow();
    expect(() => releaseLastFrameChunk({ conn: undefined })).not.toThrow();
  });
});

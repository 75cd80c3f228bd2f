import { trimByAge } from './redis-connections.service.js';

describe('Socket.IO stream trimming', () => {
  it('replaces the adapter MAXLEN trim with an age trim at the recovery window', () => {
    const now = Date.now();
    const out = trimByAge(['neonpro:sio:stream', 'MAXLEN', '~', 10000, '*', 'uid', 'x', 'data', 'y'], 120000);
    expect(out.slice(0, 3)).toEqual(['neonpro:sio:stream', 'MINID', '~']);
    const minMs = Number(String(out[3]).split('-')[0]);
    // Entries older than the window go; the id is "<ms>-0" around now - window.
    expect(minMs).toBeGreaterThanOrEqual(now - 120000);
    expect(minMs).toBeLessThanOrEqual(Date.now() - 120000);
    expect(out.slice(4)).toEqual(['*', 'uid', 'x', 'data', 'y']);
  });

  it('leaves any other XADD untouched', () => {
    expect(trimByAge(['s', '*', 'a', 'b'], 1000)).toEqual(['s', '*', 'a', 'b']);
  });
});

import { jest } from '@jest/globals';
import { type MainProcess, runService } from './service-main.js';

/** A stand-in process: records listeners, stderr and exit codes; signals are fired by hand. */
function fakeProcess() {
  const listeners = new Map<string, () => void>();
  const proc = {
    stderr: '',
    exits: [] as number[],
    once(signal: string, listener: () => void) {
      listeners.set(signal, listener);
    },
    signal(name: string) {
      listeners.get(name)?.();
    },
  };
  const asProcess: MainProcess = {
    once: (s, l) => proc.once(s, l),
    stderr: { write: (t: string) => (proc.stderr += t) },
    exit: (code) => void proc.exits.push(code),
  };
  return { proc, asProcess };
}

describe('runService', () => {
  it('closes the service once on the first signal and exits 0', async () => {
    const { proc, asProcess } = fakeProcess();
    const closed = Promise.resolve();
    const close = jest.fn(() => closed);
    await runService('svc', () => Promise.resolve({ close }), asProcess);
    proc.signal('SIGTERM');
    proc.signal('SIGINT');
    // runService's own reaction to `closed` was registered first, so it has run after this await.
    await closed;
    expect(close).toHaveBeenCalledTimes(1);
    expect(proc.exits).toEqual([0]);
    expect(proc.stderr).toBe('svc: SIGTERM received, draining\n');
  });

  it('exits 1 when closing fails', async () => {
    const { proc, asProcess } = fakeProcess();
    const closed = Promise.reject(new Error('stuck'));
    await runService('svc', () => Promise.resolve({ close: () => closed }), asProcess);
    proc.signal('SIGINT');
    await closed.catch(() => undefined);
    expect(proc.exits).toEqual([1]);
    expect(proc.stderr).toContain('svc: shutdown error: Error: stuck');
  });

  it('exits 1 with the reason when the service cannot start', async () => {
    const { proc, asProcess } = fakeProcess();
    await runService('svc', () => Promise.reject(new Error('no NATS')), asProcess);
    expect(proc.exits).toEqual([1]);
    expect(proc.stderr).toBe('svc failed to start: no NATS\n');
  });
});

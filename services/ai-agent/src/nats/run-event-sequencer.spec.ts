import type { AgentEvent, RunEvent } from '@neonpro/contracts';
import { RunEventSequencer, streamedText } from './run-event-sequencer.js';
import { must } from '@neonpro/testing';

function run(
  events: AgentEvent[],
  opts: { lastSeq?: number; already?: string; flushMs?: number; flushBytes?: number } = {},
) {
  const out: RunEvent[] = [];
  /** Pending flushes, with the delay each asked for (0: the event loop's next turn). */
  const timers: { fn: () => void; ms: number; cancelled: boolean }[] = [];
  const s = new RunEventSequencer({
    lastSeq: opts.lastSeq ?? 0,
    alreadyStreamed: opts.already ?? '',
    flushMs: opts.flushMs ?? 0,
    flushBytes: opts.flushBytes ?? 256,
    publish: (e) => out.push(e),
    schedule: (fn, ms) => {
      const t = { fn, ms, cancelled: false };
      timers.push(t);
      return () => void (t.cancelled = true);
    },
  });
  for (const e of events) {
    s.push(e);
  }
  /** Fires the oldest pending flush that was not cancelled. */
  const fire = (): number => {
    const t = must(
      timers.find((x) => !x.cancelled),
      'a pending flush',
    );
    t.cancelled = true;
    t.fn();
    return t.ms;
  };
  return { out, timers, s, fire };
}

const tokens = (...d: string[]): AgentEvent[] => d.map((delta) => ({ type: 'token', delta }));
const done = (content: string): AgentEvent => ({
  type: 'done',
  message_id: '00000000-0000-4000-8000-000000000000',
  content,
});

describe('RunEventSequencer', () => {
  it('numbers events 1..N on a first delivery', () => {
    const { out } = run([...tokens('Olá ', 'mundo'), done('Olá mundo')]);
    expect(out.map((e) => [e.type, e.seq])).toEqual([
      ['token', 1],
      ['token', 2],
      ['done', 3],
    ]);
  });

  it('sends the first tokens on the next loop turn, then coalesces until the timer or the byte bound, flushing before other events', () => {
    const { out, s, fire } = run(tokens('a', 'b'), { flushMs: 5, flushBytes: 1000 });
    // What the model produced in the same turn goes out together, one loop turn later.
    expect(out).toEqual([]);
    expect(fire()).toBe(0);
    expect(out).toEqual([{ type: 'token', delta: 'ab', seq: 1 }]);
    s.push({ type: 'token', delta: 'c' });
    s.push({ type: 'token', delta: 'd' });
    expect(out).toHaveLength(1);
    expect(fire()).toBe(5);
    expect(out.slice(1)).toEqual([{ type: 'token', delta: 'cd', seq: 2 }]);
    s.push({ type: 'token', delta: 'e' });
    s.push(done('abcde'));
    expect(out.slice(2)).toEqual([
      { type: 'token', delta: 'e', seq: 3 },
      { type: 'done', message_id: expect.any(String), content: 'abcde', seq: 4 },
    ]);
    const bytes = run(tokens('x', 'yy', 'zz', 'w'), { flushMs: 50, flushBytes: 4 });
    expect(bytes.out).toEqual([{ type: 'token', delta: 'xyyzz', seq: 1 }]);
  });

  it("sends a whole answer produced in one turn as one token event before done (the local model's case)", () => {
    const { out, timers } = run(
      [...tokens('Olá', '! ', 'Como ', 'posso ', 'ajudar?'), done('Olá! Como posso ajudar?')],
      {
        flushMs: 10,
        flushBytes: 1024,
      },
    );
    expect(out).toEqual([
      { type: 'token', delta: 'Olá! Como posso ajudar?', seq: 1 },
      expect.objectContaining({ type: 'done', seq: 2 }),
    ]);
    // The flush the first delta scheduled was cancelled by done's, so nothing fires later.
    expect(timers.every((t) => t.cancelled)).toBe(true);
  });

  it('with flushMs 0 publishes each token at once', () => {
    const { out, timers } = run(tokens('a', 'b'), { flushMs: 0 });
    expect(out.map((e) => e.type === 'token' && e.delta)).toEqual(['a', 'b']);
    expect(timers).toHaveLength(0);
  });

  it('on a redelivery continues the seq and skips the text the client already holds', () => {
    const { out } = run([...tokens('Olá ', 'mun', 'do!'), done('Olá mundo!')], { lastSeq: 4, already: 'Olá mu' });
    expect(out).toEqual([
      { type: 'token', delta: 'n', seq: 5 },
      { type: 'token', delta: 'do!', seq: 6 },
      expect.objectContaining({ type: 'done', seq: 7 }),
    ]);
    expect('Olá mu' + streamedText(out)).toBe('Olá mundo!');
  });

  it('emits restart and the whole answer when the new attempt diverges (or is shorter)', () => {
    const diverged = run([...tokens('Boa ', 'tarde'), done('Boa tarde')], { lastSeq: 2, already: 'Bom dia' });
    expect(diverged.out.map((e) => e.type)).toEqual(['restart', 'token', 'token', 'done']);
    expect(diverged.out[0]?.seq).toBe(3);
    expect(streamedText([{ type: 'token', delta: 'Bom dia', seq: 1 }, ...diverged.out])).toBe('Boa tarde');
    const shorter = run([...tokens('Oi'), done('Oi')], { lastSeq: 1, already: 'Oi, tudo' });
    expect(shorter.out.map((e) => e.type)).toEqual(['restart', 'token', 'done']);
    expect(streamedText([{ type: 'token', delta: 'Oi, tudo', seq: 1 }, ...shorter.out])).toBe('Oi');
  });

  it('ignores anything after the terminal event', () => {
    const { out } = run([{ type: 'error', code: 'cancelled', message: 'x' }, ...tokens('late')]);
    expect(out).toHaveLength(1);
  });
});

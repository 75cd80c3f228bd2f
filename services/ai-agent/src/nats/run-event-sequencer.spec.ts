import type { AgentEvent, RunEvent } from '@neonpro/contracts';
import { RunEventSequencer, streamedText } from './run-event-sequencer.js';
import { must } from '@neonpro/testing';

function run(
  events: AgentEvent[],
  opts: { lastSeq?: number; already?: string; flushMs?: number; flushBytes?: number } = {},
) {
  const out: RunEvent[] = [];
  const timers: (() => void)[] = [];
  const s = new RunEventSequencer({
    lastSeq: opts.lastSeq ?? 0,
    alreadyStreamed: opts.already ?? '',
    flushMs: opts.flushMs ?? 0,
    flushBytes: opts.flushBytes ?? 256,
    publish: (e) => out.push(e),
    setTimer: (fn) => timers.push(fn),
    clearTimer: () => undefined,
  });
  for (const e of events) {
    s.push(e);
  }
  return { out, timers, s };
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

  it('sends the first token at once, then coalesces until the timer or the byte bound, flushing before other events', () => {
    const { out, timers, s } = run(tokens('a', 'b', 'c'), { flushMs: 5, flushBytes: 1000 });
    expect(out).toEqual([{ type: 'token', delta: 'a', seq: 1 }]);
    must(timers[0], 'a flush timer')();
    expect(out.slice(1)).toEqual([{ type: 'token', delta: 'bc', seq: 2 }]);
    s.push({ type: 'token', delta: 'd' });
    s.push(done('abcd'));
    expect(out.slice(2)).toEqual([
      { type: 'token', delta: 'd', seq: 3 },
      { type: 'done', message_id: expect.any(String), content: 'abcd', seq: 4 },
    ]);
    const bytes = run(tokens('x', 'yy', 'zz', 'w'), { flushMs: 50, flushBytes: 4 });
    expect(bytes.out).toEqual([
      { type: 'token', delta: 'x', seq: 1 },
      { type: 'token', delta: 'yyzz', seq: 2 },
    ]);
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

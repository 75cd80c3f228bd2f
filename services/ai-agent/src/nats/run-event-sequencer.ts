import type { AgentEvent, RunEvent } from '@neonpro/contracts';

export interface SequencerOptions {
  /** Last `seq` already in the run's log (0 on a first delivery: `accepted`). */
  lastSeq: number;
  /** Text the client already holds from earlier attempts (tokens since the last `restart`). */
  alreadyStreamed: string;
  /** Coalesce tokens this long (0 = publish each token at once). */
  flushMs: number;
  /** ...or until this many bytes are buffered. */
  flushBytes: number;
  publish: (event: RunEvent) => void;
  /**
   * Runs `fn` after `ms` (0: on the event loop's next turn) and returns what cancels it. Tests
   * pass their own; the default uses setImmediate / setTimeout.
   */
  schedule?: (fn: () => void, ms: number) => () => void;
}

const scheduleOnLoop = (fn: () => void, ms: number): (() => void) => {
  if (ms === 0) {
    const h = setImmediate(fn);
    return () => clearImmediate(h);
  }
  const h = setTimeout(fn, ms);
  return () => clearTimeout(h);
};

/**
 * Turns a run's events into its log: numbers them (`seq`, continuing after earlier attempts),
 * coalesces token deltas, and on a redelivery skips the prefix the client already received. If
 * the new attempt's text departs from that prefix, it emits `restart` and streams the answer
 * from its start, so "tokens since the last restart" always equals the final content.
 */
export class RunEventSequencer {
  private seq: number;
  private emitted = '';
  /** Length of `emitted` the client holds (the previous attempts' text counts). */
  private sent: number;
  private diverged: boolean;
  private buffer = '';
  /** Cancels the pending flush, if one is scheduled. */
  private cancelFlush: (() => void) | undefined;
  private ended = false;
  /** Whether a token event went out in this attempt (until then, a flush waits one loop turn only). */
  private streaming = false;
  private readonly schedule: (fn: () => void, ms: number) => () => void;

  constructor(private readonly opts: SequencerOptions) {
    this.seq = opts.lastSeq;
    this.sent = opts.alreadyStreamed.length;
    this.diverged = opts.alreadyStreamed === '';
    this.schedule = opts.schedule ?? scheduleOnLoop;
  }

  get lastSeq(): number {
    return this.seq;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  push(event: AgentEvent): void {
    if (this.ended) {
      return;
    }
    switch (event.type) {
      case 'token':
        this.token(event.delta);
        return;
      case 'done':
        // The final answer is shorter than what an earlier attempt streamed: the client must drop it.
        if (!this.diverged && this.emitted.length < this.opts.alreadyStreamed.length) {
          this.restart();
        }
        this.flush();
        this.ended = true;
        this.out({ ...event, seq: ++this.seq });
        return;
      case 'error':
        this.flush();
        this.ended = true;
        this.out({ ...event, seq: ++this.seq });
        return;
      default:
        this.flush();
        this.out({ ...event, seq: ++this.seq });
    }
  }

  private token(delta: string): void {
    this.emitted += delta;
    if (this.diverged) {
      return this.buffered(delta);
    }
    const prev = this.opts.alreadyStreamed;
    const consistent =
      this.emitted.length <= prev.length ? prev.startsWith(this.emitted) : this.emitted.startsWith(prev);
    if (!consistent) {
      return this.restart();
    }
    if (this.emitted.length > this.sent) {
      this.buffered(this.emitted.slice(this.sent));
      this.sent = this.emitted.length;
    }
  }

  private restart(): void {
    this.diverged = true;
    this.buffer = '';
    this.cancelPending();
    this.out({ type: 'restart', seq: ++this.seq });
    if (this.emitted) {
      this.buffered(this.emitted);
    }
  }

  private buffered(text: string): void {
    this.buffer += text;
    if (this.opts.flushMs === 0 || Buffer.byteLength(this.buffer) >= this.opts.flushBytes) {
      return this.flush();
    }
    // The first delta waits only for the event loop's next turn (time to first token), so what
    // the model produced in the same turn (a local model's whole answer) goes out as one event;
    // later deltas are coalesced for flushMs.
    this.cancelFlush ??= this.schedule(
      () => {
        this.cancelFlush = undefined;
        this.flush();
      },
      this.streaming ? this.opts.flushMs : 0,
    );
  }

  /** Publishes buffered tokens now. */
  flush(): void {
    this.cancelPending();
    if (!this.buffer) {
      return;
    }
    const delta = this.buffer;
    this.buffer = '';
    this.streaming = true;
    this.out({ type: 'token', delta, seq: ++this.seq });
  }

  private cancelPending(): void {
    this.cancelFlush?.();
    this.cancelFlush = undefined;
  }

  private out(event: RunEvent): void {
    this.opts.publish(event);
  }
}

/** The text a client holds after these events: tokens since the last `restart`. */
export function streamedText(events: readonly RunEvent[]): string {
  let text = '';
  for (const e of events) {
    if (e.type === 'restart') {
      text = '';
    } else if (e.type === 'token') {
      text += e.delta;
    }
  }
  return text;
}

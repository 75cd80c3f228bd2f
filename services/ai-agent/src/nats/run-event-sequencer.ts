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
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

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
  private timer: unknown;
  private ended = false;
  /** Whether a token event went out in this attempt (the first one is not held back). */
  private streaming = false;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;

  constructor(private readonly opts: SequencerOptions) {
    this.seq = opts.lastSeq;
    this.sent = opts.alreadyStreamed.length;
    this.diverged = opts.alreadyStreamed === '';
    this.setTimer = opts.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = opts.clearTimer ?? ((h) => clearTimeout(h as NodeJS.Timeout));
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
    this.cancelTimer();
    this.out({ type: 'restart', seq: ++this.seq });
    if (this.emitted) {
      this.buffered(this.emitted);
    }
  }

  private buffered(text: string): void {
    this.buffer += text;
    // The first delta goes out at once (time to first token); later ones are coalesced.
    if (!this.streaming || this.opts.flushMs === 0 || Buffer.byteLength(this.buffer) >= this.opts.flushBytes) {
      return this.flush();
    }
    this.timer ??= this.setTimer(() => {
      this.timer = undefined;
      this.flush();
    }, this.opts.flushMs);
  }

  /** Publishes buffered tokens now. */
  flush(): void {
    this.cancelTimer();
    if (!this.buffer) {
      return;
    }
    const delta = this.buffer;
    this.buffer = '';
    this.streaming = true;
    this.out({ type: 'token', delta, seq: ++this.seq });
  }

  private cancelTimer(): void {
    if (this.timer === undefined) {
      return;
    }
    this.clearTimer(this.timer);
    this.timer = undefined;
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

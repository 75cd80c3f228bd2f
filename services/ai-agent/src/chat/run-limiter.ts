/** Raised when both the run slots and the wait queue are full. */
export class OverloadedError extends Error {
  constructor() {
    super('agent overloaded');
    this.name = 'OverloadedError';
  }
}

interface Waiter {
  grant: () => void;
  reject: (err: unknown) => void;
}

/**
 * Bounds concurrent runs per replica: `concurrency` run at once, up to `queueMax` wait in FIFO
 * order, and anything beyond is refused at once so the caller can go to another replica.
 */
export class RunLimiter {
  private running = 0;
  private readonly waiting: Waiter[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly queueMax: number,
    private readonly onChange: (state: { running: number; queued: number }) => void = () => undefined,
  ) {}

  get queued(): number {
    return this.waiting.length;
  }

  get active(): number {
    return this.running;
  }

  /** Resolves with a release function once a slot is free; rejects on overload or abort. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.running < this.concurrency) {
      this.running++;
      this.emit();
      return Promise.resolve(this.releaser());
    }
    if (this.waiting.length >= this.queueMax) {
      return Promise.reject(new OverloadedError());
    }
    return new Promise<() => void>((resolve, reject) => {
      const waiter: Waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(this.releaser());
        },
        reject,
      };
      const onAbort = (): void => {
        const i = this.waiting.indexOf(waiter);
        if (i >= 0) {
          this.waiting.splice(i, 1);
        }
        this.emit();
        const reason: unknown = signal?.reason;
        reject(reason instanceof Error ? reason : new Error('aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
      this.emit();
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) {
        return;
      }
      released = true;
      const next = this.waiting.shift();
      // Hand the slot straight to the next waiter so `running` never dips and lets a newcomer jump the queue.
      if (next) {
        next.grant();
      } else {
        this.running--;
      }
      this.emit();
    };
  }

  private emit(): void {
    this.onChange({ running: this.running, queued: this.waiting.length });
  }
}

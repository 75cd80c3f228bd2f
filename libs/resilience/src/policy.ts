import {
  BrokenCircuitError,
  BulkheadRejectedError,
  bulkhead,
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  ExponentialBackoff,
  handleWhen,
  type IPolicy,
  IsolatedCircuitError,
  retry,
  SamplingBreaker,
  TaskCancelledError,
  wrap,
} from 'cockatiel';

export type BreakerState = 'closed' | 'open' | 'half_open' | 'isolated';

export interface BreakerSettings {
  /** `consecutive`: open after `threshold` failures in a row; `sampling`: failure ratio over a window. */
  mode: 'consecutive' | 'sampling';
  threshold: number;
  /** Sampling mode: failure ratio (0..1] that opens the breaker. */
  ratio: number;
  /** Sampling mode: window length. */
  windowMs: number;
  /** Sampling mode: below this rate the breaker never opens (too few calls to judge). */
  minRps: number;
  /** Time the breaker stays open before letting one probe call through. */
  halfOpenAfterMs: number;
}

export interface PolicySettings {
  /** Hard bound per attempt; 0 = no timeout policy (the caller bounds the call itself). */
  timeoutMs: number;
  /** Extra attempts for calls the caller marks as safe to retry (0 = never retry). */
  retries: number;
  retryBaseMs: number;
  breaker: BreakerSettings;
  /** Concurrent calls, and calls allowed to wait for a slot. */
  bulkhead: { limit: number; queue: number };
}

export interface ExecuteOptions {
  /** Only idempotent work may be retried; the caller knows, so it says so per call. */
  retry?: boolean;
  signal?: AbortSignal;
}

/**
 * Builds an error without capturing a stack: for refusals, whose stack says nothing (the caller
 * was turned away on purpose) and which an open breaker produces for every request.
 */
export function stackless<E>(build: () => E): E {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return build();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** The downstream cannot be called now: its breaker is open or its bulkhead is full. */
export class UpstreamUnavailableError extends Error {
  constructor(
    readonly policy: string,
    readonly reason: 'breaker_open' | 'bulkhead_full',
    /** How long until a call may succeed (breaker: time until half-open). */
    readonly retryAfterMs: number,
  ) {
    super(`${policy} is unavailable (${reason})`);
    this.name = 'UpstreamUnavailableError';
  }
}

/**
 * Why a call never reached its downstream: the policy's own refusals, or the caller's admission
 * gate in front of it being full (`ResiliencePolicy.refusedByCaller`).
 */
export type RefusalReason = UpstreamUnavailableError['reason'] | 'admission_full';

/** The per-attempt timeout of a policy elapsed. */
export class UpstreamTimeoutError extends Error {
  constructor(readonly policy: string) {
    super(`${policy} did not answer in time`);
    this.name = 'UpstreamTimeoutError';
  }
}

export interface PolicyEvents {
  stateChange(name: string, from: BreakerState, to: BreakerState, retryAfterMs: number): void;
  retry(name: string, attempt: number, delayMs: number): void;
  rejected(name: string, reason: RefusalReason): void;
}

const STATES: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half_open',
  [CircuitState.Isolated]: 'isolated',
};

export interface PolicySnapshot {
  state: BreakerState;
  /** Seconds until the breaker lets a probe through (only while open). */
  retry_after_s?: number;
  opened_at?: string;
}

/**
 * One named downstream policy: bulkhead → retry (opt-in per call) → circuit breaker → timeout.
 * Retry sits outside the breaker and never retries an open breaker, a full bulkhead or a
 * cancelled call; only errors `isFailure` accepts count against the breaker and are retried.
 */
export class ResiliencePolicy {
  private readonly breaker: CircuitBreakerPolicy;
  private readonly once: IPolicy;
  private readonly retrying: IPolicy;
  private current: BreakerState = 'closed';
  private openedAt = 0;

  constructor(
    readonly name: string,
    readonly settings: PolicySettings,
    isFailure: (err: unknown) => boolean,
    private readonly events?: PolicyEvents,
  ) {
    const b = settings.breaker;
    const counts = (err: unknown): boolean => err instanceof TaskCancelledError || isFailure(err);
    this.breaker = circuitBreaker(handleWhen(counts), {
      halfOpenAfter: b.halfOpenAfterMs,
      breaker:
        b.mode === 'consecutive'
          ? new ConsecutiveBreaker(b.threshold)
          : new SamplingBreaker({ threshold: b.ratio, duration: b.windowMs, minimumRps: b.minRps }),
    });
    this.breaker.onStateChange((s) => this.onState(STATES[s]));
    // The per-attempt timeout is ours (see `attempt`), not cockatiel's `timeout` policy: that one
    // creates an AbortController per call and aborts it when the call *succeeds* (to release its
    // listeners), building a DOMException with a stack on every call of every request.
    const gate = bulkhead(settings.bulkhead.limit, settings.bulkhead.queue);
    this.once = wrap(gate, this.breaker);
    const retryPolicy = retry(
      handleWhen((err) => !isUnretryable(err) && counts(err)),
      {
        maxAttempts: settings.retries,
        // Exponential with decorrelated jitter (cockatiel's default generator).
        backoff: new ExponentialBackoff({ initialDelay: settings.retryBaseMs, maxDelay: settings.retryBaseMs * 20 }),
      },
    );
    retryPolicy.onRetry((r) => this.events?.retry(this.name, r.attempt, r.delay));
    this.retrying = wrap(gate, retryPolicy, this.breaker);
  }

  /** Runs `fn` under the policy. `fn` gets an AbortSignal that fires on timeout or caller abort. */
  async execute<T>(fn: (signal: AbortSignal) => Promise<T> | T, options: ExecuteOptions = {}): Promise<T> {
    // Fail fast while open, before the bulkhead and the breaker: cockatiel would refuse the call
    // anyway (the half-open delay has not elapsed), but only after two policy layers and its own
    // BrokenCircuitError. The state cannot change before the delay elapses, so the answer is the same.
    const refused = this.refusal();
    if (refused) {
      throw refused;
    }
    const policy = options.retry && this.settings.retries > 0 ? this.retrying : this.once;
    try {
      return await policy.execute(() => this.attempt(fn, options.signal), options.signal);
    } catch (err) {
      throw this.translate(err);
    }
  }

  /**
   * One attempt, bounded by `timeoutMs` (rejecting on time even if `fn` ignores the signal). The
   * signal is aborted only on timeout or caller abort; a successful call leaves it alone.
   */
  private async attempt<T>(fn: (signal: AbortSignal) => Promise<T> | T, caller?: AbortSignal): Promise<T> {
    const ms = this.settings.timeoutMs;
    if (ms <= 0 && !caller) {
      return fn(NEVER_ABORTED);
    }
    if (caller?.aborted) {
      throw caller.reason instanceof Error ? caller.reason : new TaskCancelledError('cancelled by the caller');
    }
    const ctrl = new AbortController();
    const onCallerAbort = (): void => ctrl.abort(caller?.reason);
    caller?.addEventListener('abort', onCallerAbort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    try {
      const work = Promise.resolve()
        .then(() => fn(ctrl.signal))
        .catch((err: unknown) => {
          // fn reacting to our timeout's abort is the timeout, whatever it threw.
          if (ctrl.signal.aborted && !caller?.aborted) {
            throw new TaskCancelledError('timed out');
          }
          throw err;
        });
      if (ms <= 0) {
        return await work;
      }
      const expired = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => {
          ctrl.abort();
          reject(new TaskCancelledError('timed out'));
        }, ms);
      });
      // The losing promise's rejection must not go unhandled.
      work.catch(() => undefined);
      expired.catch(() => undefined);
      return await Promise.race([work, expired]);
    } finally {
      clearTimeout(timer);
      caller?.removeEventListener('abort', onCallerAbort);
    }
  }

  /**
   * The refusal an open breaker answers with right now (counted as a rejection), or undefined
   * when a call may go through. Lets a caller refuse before doing its own work for the call.
   */
  refusal(): UpstreamUnavailableError | undefined {
    const waitMs = this.retryAfterMs();
    if (waitMs <= 0) {
      return undefined;
    }
    this.events?.rejected(this.name, 'breaker_open');
    return stackless(() => new UpstreamUnavailableError(this.name, 'breaker_open', Math.max(1000, waitMs)));
  }

  /**
   * Counts a call its caller refused before handing it to the policy (its own admission gate was
   * full), beside the policy's own refusals, so one series shows every call the downstream never saw.
   */
  refusedByCaller(reason: Exclude<RefusalReason, UpstreamUnavailableError['reason']>): void {
    this.events?.rejected(this.name, reason);
  }

  get state(): BreakerState {
    return this.current;
  }

  /** Milliseconds until an open breaker lets a probe through (0 when it would now). */
  retryAfterMs(): number {
    if (this.current !== 'open') {
      return 0;
    }
    return Math.max(0, this.openedAt + this.settings.breaker.halfOpenAfterMs - Date.now());
  }

  snapshot(): PolicySnapshot {
    if (this.current !== 'open') {
      return { state: this.current };
    }
    return {
      state: this.current,
      retry_after_s: Math.ceil(this.retryAfterMs() / 1000),
      opened_at: new Date(this.openedAt).toISOString(),
    };
  }

  private onState(to: BreakerState): void {
    const from = this.current;
    if (from === to) {
      return;
    }
    this.current = to;
    if (to === 'open') {
      this.openedAt = Date.now();
    }
    this.events?.stateChange(this.name, from, to, this.retryAfterMs());
  }

  private translate(err: unknown): unknown {
    if (err instanceof BrokenCircuitError || err instanceof IsolatedCircuitError) {
      this.events?.rejected(this.name, 'breaker_open');
      // Half-open with a probe in flight: the answer is moments away.
      return new UpstreamUnavailableError(this.name, 'breaker_open', Math.max(1000, this.retryAfterMs()));
    }
    if (err instanceof BulkheadRejectedError) {
      this.events?.rejected(this.name, 'bulkhead_full');
      return new UpstreamUnavailableError(this.name, 'bulkhead_full', 1000);
    }
    if (err instanceof TaskCancelledError) {
      return new UpstreamTimeoutError(this.name);
    }
    return err;
  }
}

/** Handed to `fn` when the policy has no timeout and the caller no signal: nothing can abort it. */
const NEVER_ABORTED = new AbortController().signal;

function isUnretryable(err: unknown): boolean {
  return (
    err instanceof BrokenCircuitError || err instanceof BulkheadRejectedError || err instanceof IsolatedCircuitError
  );
}

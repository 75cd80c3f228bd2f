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
  TimeoutStrategy,
  timeout,
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
  rejected(name: string, reason: UpstreamUnavailableError['reason']): void;
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
    const inner: IPolicy[] = [this.breaker];
    if (settings.timeoutMs > 0) {
      inner.push(timeout(settings.timeoutMs, TimeoutStrategy.Aggressive));
    }
    const gate = bulkhead(settings.bulkhead.limit, settings.bulkhead.queue);
    this.once = wrap(gate, ...inner);
    const retryPolicy = retry(
      handleWhen((err) => !isUnretryable(err) && counts(err)),
      {
        maxAttempts: settings.retries,
        // Exponential with decorrelated jitter (cockatiel's default generator).
        backoff: new ExponentialBackoff({ initialDelay: settings.retryBaseMs, maxDelay: settings.retryBaseMs * 20 }),
      },
    );
    retryPolicy.onRetry((r) => this.events?.retry(this.name, r.attempt, r.delay));
    this.retrying = wrap(gate, retryPolicy, ...inner);
  }

  /** Runs `fn` under the policy. `fn` gets an AbortSignal that fires on timeout or caller abort. */
  async execute<T>(fn: (signal: AbortSignal) => Promise<T> | T, options: ExecuteOptions = {}): Promise<T> {
    const policy = options.retry && this.settings.retries > 0 ? this.retrying : this.once;
    try {
      return await policy.execute(async ({ signal }) => {
        try {
          return await fn(signal);
        } catch (err) {
          // fn reacting to our timeout's abort is the timeout, whatever it threw.
          if (signal.aborted && !options.signal?.aborted) {
            throw new TaskCancelledError('timed out');
          }
          throw err;
        }
      }, options.signal);
    } catch (err) {
      throw this.translate(err);
    }
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

function isUnretryable(err: unknown): boolean {
  return (
    err instanceof BrokenCircuitError || err instanceof BulkheadRejectedError || err instanceof IsolatedCircuitError
  );
}

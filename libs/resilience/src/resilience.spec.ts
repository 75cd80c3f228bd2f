import { jest } from '@jest/globals';
import { Registry } from 'prom-client';
import { type PolicySettings, UpstreamTimeoutError, UpstreamUnavailableError } from './policy.js';
import { PolicyRegistry } from './registry.js';

class Down extends Error {}
class BadInput extends Error {}

const settings = (over: Partial<PolicySettings> = {}): PolicySettings => ({
  timeoutMs: 0,
  retries: 2,
  retryBaseMs: 1,
  breaker: { mode: 'consecutive', threshold: 3, ratio: 0.5, windowMs: 1000, minRps: 1, halfOpenAfterMs: 60000 },
  bulkhead: { limit: 10, queue: 0 },
  ...over,
});

function make(over: Partial<PolicySettings> = {}) {
  const registry = new Registry();
  const logs: { level: string; obj: object; msg: string }[] = [];
  const logger = {
    info: (obj: object, msg: string) => logs.push({ level: 'info', obj, msg }),
    warn: (obj: object, msg: string) => logs.push({ level: 'warn', obj, msg }),
  };
  const policies = new PolicyRegistry(
    [{ name: 'dep', settings: settings(over), isFailure: (e) => e instanceof Down }],
    { registry, metricPrefix: 't', logger },
  );
  return { policies, policy: policies.get('dep'), registry, logs };
}

const fail = () => Promise.reject(new Down('down'));

/** Settles a call that waits on (fake) timers: retry backoff, timeouts. */
async function settled<T>(call: Promise<T>): Promise<T> {
  let done = false;
  call.then(
    () => (done = true),
    () => (done = true),
  );
  while (!done) {
    await jest.advanceTimersByTimeAsync(5);
  }
  return call;
}

// Time is faked (breaker delays, backoff, timeouts): no test waits on the wall clock.
beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe('ResiliencePolicy', () => {
  it('opens after the consecutive threshold and then fails fast with the time until half-open', async () => {
    const { policy, registry, logs } = make();
    for (let i = 0; i < 3; i++) {
      await expect(policy.execute(fail)).rejects.toBeInstanceOf(Down);
    }
    expect(policy.state).toBe('open');
    let called = false;
    const err = await policy
      .execute(() => {
        called = true;
        return 1;
      })
      .catch((e: unknown) => e);
    expect(called).toBe(false);
    expect(err).toBeInstanceOf(UpstreamUnavailableError);
    expect((err as UpstreamUnavailableError).reason).toBe('breaker_open');
    expect((err as UpstreamUnavailableError).retryAfterMs).toBeGreaterThan(50000);
    // A refusal per request while open: no stack is captured for it.
    expect((err as Error).stack).not.toMatch(/\n\s+at /);
    expect(new Error('x').stack).toMatch(/\n\s+at /);
    expect(policy.snapshot()).toMatchObject({ state: 'open', retry_after_s: expect.any(Number) });
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/t_breaker_state\{name="dep"\} 1/);
    expect(metrics).toMatch(/t_breaker_transitions_total\{name="dep",from="closed",to="open"\} 1/);
    expect(metrics).toMatch(/t_policy_rejections_total\{name="dep",reason="breaker_open"\} 1/);
    expect(logs).toContainEqual(expect.objectContaining({ level: 'warn', msg: 'circuit breaker open' }));
  });

  it("counts a caller's own refusal beside the policy's, without touching the breaker", async () => {
    const { policy, registry } = make();
    policy.refusedByCaller('admission_full');
    policy.refusedByCaller('admission_full');
    expect(policy.state).toBe('closed');
    expect(await registry.metrics()).toMatch(/t_policy_rejections_total\{name="dep",reason="admission_full"\} 2/);
  });

  it('does not count errors that are not downstream failures', async () => {
    const { policy } = make();
    for (let i = 0; i < 5; i++) {
      await expect(policy.execute(() => Promise.reject(new BadInput()))).rejects.toBeInstanceOf(BadInput);
    }
    expect(policy.state).toBe('closed');
  });

  it('half-opens after the delay, probes, and closes again on success', async () => {
    const { policy, registry, logs } = make({
      breaker: { ...settings().breaker, threshold: 1, halfOpenAfterMs: 30 },
    });
    await expect(policy.execute(fail)).rejects.toBeInstanceOf(Down);
    expect(policy.state).toBe('open');
    jest.advanceTimersByTime(29);
    expect(policy.retryAfterMs()).toBe(1);
    await expect(policy.execute(() => 'ok')).rejects.toBeInstanceOf(UpstreamUnavailableError);
    jest.advanceTimersByTime(1);
    expect(policy.retryAfterMs()).toBe(0);
    await expect(policy.execute(() => 'ok')).resolves.toBe('ok');
    expect(policy.state).toBe('closed');
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/from="open",to="half_open"\} 1/);
    expect(metrics).toMatch(/from="half_open",to="closed"\} 1/);
    expect(metrics).toMatch(/t_breaker_state\{name="dep"\} 0/);
    expect(logs.at(-1)).toMatchObject({ level: 'info', msg: 'circuit breaker closed' });
  });

  it('a failed probe reopens the breaker', async () => {
    const { policy } = make({ breaker: { ...settings().breaker, threshold: 1, halfOpenAfterMs: 30 } });
    await expect(policy.execute(fail)).rejects.toBeInstanceOf(Down);
    jest.advanceTimersByTime(30);
    await expect(policy.execute(fail)).rejects.toBeInstanceOf(Down);
    expect(policy.state).toBe('open');
    expect(policy.retryAfterMs()).toBe(30);
  });

  it('retries only when the call opts in, and only downstream failures', async () => {
    const { policy, registry } = make({ breaker: { ...settings().breaker, threshold: 100 } });
    let n = 0;
    const flaky = () => (++n < 3 ? Promise.reject(new Down()) : Promise.resolve(n));
    await expect(policy.execute(flaky)).rejects.toBeInstanceOf(Down);
    expect(n).toBe(1);
    n = 0;
    await expect(settled(policy.execute(flaky, { retry: true }))).resolves.toBe(3);
    let bad = 0;
    await expect(
      settled(
        policy.execute(
          () => {
            bad++;
            return Promise.reject(new BadInput());
          },
          { retry: true },
        ),
      ),
    ).rejects.toBeInstanceOf(BadInput);
    expect(bad).toBe(1);
    expect(await registry.metrics()).toMatch(/t_policy_retries_total\{name="dep"\} 2/);
  });

  it('never retries into an open breaker', async () => {
    const { policy } = make({ retries: 5, breaker: { ...settings().breaker, threshold: 2 } });
    let calls = 0;
    const err = await settled(
      policy.execute(
        () => {
          calls++;
          return Promise.reject(new Down());
        },
        { retry: true },
      ),
    ).catch((e: unknown) => e);
    // Two real calls open the breaker; the third attempt is refused by it and not retried.
    expect(calls).toBe(2);
    expect(err).toBeInstanceOf(UpstreamUnavailableError);
  });

  it('times out an attempt and aborts its signal', async () => {
    const { policy } = make({ timeoutMs: 20 });
    let aborted = false;
    const call = policy
      .execute(
        (signal) =>
          new Promise((_resolve, reject) => {
            signal.addEventListener('abort', () => {
              aborted = true;
              reject(new Error('aborted'));
            });
          }),
      )
      .catch((e: unknown) => e);
    await jest.advanceTimersByTimeAsync(19);
    expect(aborted).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    const err = await call;
    expect(err).toBeInstanceOf(UpstreamTimeoutError);
    expect(aborted).toBe(true);
  });

  it('times out a call that ignores its signal, and counts it against the breaker', async () => {
    const { policy } = make({ timeoutMs: 20, breaker: { ...settings().breaker, threshold: 1 } });
    const call = policy.execute(() => new Promise(() => undefined)).catch((e: unknown) => e);
    await jest.advanceTimersByTimeAsync(20);
    expect(await call).toBeInstanceOf(UpstreamTimeoutError);
    expect(policy.state).toBe('open');
  });

  it('leaves the signal alone after a successful call, and passes a caller abort through', async () => {
    const { policy } = make({ timeoutMs: 20 });
    let seen: AbortSignal | undefined;
    await expect(policy.execute((signal) => ((seen = signal), 'ok'))).resolves.toBe('ok');
    expect(seen?.aborted).toBe(false);
    const caller = new AbortController();
    const call = policy
      .execute(
        (signal) =>
          new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error))),
        { signal: caller.signal },
      )
      .catch((e: unknown) => e);
    await jest.advanceTimersByTimeAsync(1);
    caller.abort(new BadInput('gone'));
    // The caller's own reason, not a timeout.
    expect(await call).toBeInstanceOf(BadInput);
  });

  it('caps concurrency with the bulkhead', async () => {
    const { policy } = make({ bulkhead: { limit: 1, queue: 0 } });
    let release!: () => void;
    const first = policy.execute(() => new Promise<void>((r) => (release = r)));
    const err = await policy.execute(() => 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamUnavailableError);
    expect((err as UpstreamUnavailableError).reason).toBe('bulkhead_full');
    release();
    await first;
    await expect(policy.execute(() => 2)).resolves.toBe(2);
  });

  it('sampling mode opens on the failure ratio', async () => {
    const { policy } = make({
      breaker: { ...settings().breaker, mode: 'sampling', ratio: 0.5, windowMs: 5000, minRps: 0.1 },
    });
    for (let i = 0; i < 20 && policy.state === 'closed'; i++) {
      await policy.execute(fail).catch(() => undefined);
    }
    expect(policy.state).toBe('open');
  });

  it('registry: unknown names throw, snapshot lists every breaker', () => {
    const { policies } = make();
    expect(() => policies.get('nope')).toThrow(/unknown/);
    expect(policies.snapshot()).toEqual({ dep: { state: 'closed' } });
  });
});

import { Counter, Gauge, type Registry } from 'prom-client';
import {
  type BreakerState,
  type PolicyEvents,
  type PolicySettings,
  type PolicySnapshot,
  ResiliencePolicy,
} from './policy.js';

/** The logger surface the registry needs (pino's, Nest's PinoLogger's). */
export interface PolicyLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface PolicyDefinition {
  name: string;
  settings: PolicySettings;
  /** Which errors mean "the downstream is failing" (count against the breaker, may be retried). */
  isFailure: (err: unknown) => boolean;
}

export const BREAKER_STATE_VALUE: Record<BreakerState, number> = { closed: 0, open: 1, half_open: 2, isolated: 3 };

/**
 * Named policies for every downstream, with their breaker state in metrics
 * (`<prefix>_breaker_state{name}`, `<prefix>_breaker_transitions_total{name,from,to}`) and logs.
 * Use: `policies.get('postgres').execute(() => pool.query(...))`.
 */
export class PolicyRegistry {
  private readonly policies = new Map<string, ResiliencePolicy>();

  constructor(
    definitions: readonly PolicyDefinition[],
    options: { registry?: Registry; metricPrefix?: string; logger?: PolicyLogger } = {},
  ) {
    const prefix = options.metricPrefix ?? 'app';
    const registers = options.registry ? [options.registry] : [];
    const state = new Gauge({
      name: `${prefix}_breaker_state`,
      help: 'Circuit breaker state per downstream: 0 closed, 1 open, 2 half-open, 3 isolated',
      labelNames: ['name'],
      registers,
    });
    const transitions = new Counter({
      name: `${prefix}_breaker_transitions_total`,
      help: 'Circuit breaker state transitions per downstream',
      labelNames: ['name', 'from', 'to'],
      registers,
    });
    const rejections = new Counter({
      name: `${prefix}_policy_rejections_total`,
      help: "Calls refused without reaching the downstream (breaker open, bulkhead full, the caller's admission gate full)",
      labelNames: ['name', 'reason'],
      registers,
    });
    const retries = new Counter({
      name: `${prefix}_policy_retries_total`,
      help: 'Retried downstream calls',
      labelNames: ['name'],
      registers,
    });
    const log = options.logger;
    const events: PolicyEvents = {
      stateChange: (name, from, to, retryAfterMs) => {
        state.set({ name }, BREAKER_STATE_VALUE[to]);
        transitions.inc({ name, from, to });
        const fields = { breaker: name, from, to, ...(to === 'open' ? { retry_after_ms: retryAfterMs } : {}) };
        if (to === 'closed') {
          log?.info(fields, 'circuit breaker closed');
        } else {
          log?.warn(fields, `circuit breaker ${to.replace('_', '-')}`);
        }
      },
      retry: (name) => retries.inc({ name }),
      rejected: (name, reason) => rejections.inc({ name, reason }),
    };
    for (const d of definitions) {
      if (this.policies.has(d.name)) {
        throw new Error(`duplicate policy ${d.name}`);
      }
      this.policies.set(d.name, new ResiliencePolicy(d.name, d.settings, d.isFailure, events));
      state.set({ name: d.name }, 0);
    }
  }

  get(name: string): ResiliencePolicy {
    const p = this.policies.get(name);
    if (!p) {
      throw new Error(`unknown resilience policy "${name}"`);
    }
    return p;
  }

  names(): string[] {
    return [...this.policies.keys()];
  }

  /** Every breaker's state, for `/health/ready` details. */
  snapshot(): Record<string, PolicySnapshot> {
    return Object.fromEntries([...this.policies].map(([n, p]) => [n, p.snapshot()]));
  }
}

import type { FactoryProvider } from '@nestjs/common';
import { isDatabaseUnavailable } from '@neonpro/database';
import { HealthRegistry, METRICS_REGISTRY } from '@neonpro/observability';
import { PolicyRegistry, type PolicySettings } from '@neonpro/resilience';
import { PinoLogger } from 'nestjs-pino';
import type { Registry } from 'prom-client';
import { GATEWAY_CONFIG, type GatewayRuntimeConfig } from '../gateway.config.js';

export const AGENT_POLICY = 'agent';
export const POSTGRES_POLICY = 'postgres';
export const SUPABASE_AUTH_POLICY = 'supabase-auth';

type PolicyPrefix = 'AGENT' | 'POSTGRES' | 'SUPABASE_AUTH';

function settingsFor(c: GatewayRuntimeConfig, p: PolicyPrefix, timeoutMs: number): PolicySettings {
  return {
    timeoutMs,
    retries: c[`${p}_RETRY_MAX`],
    retryBaseMs: c[`${p}_RETRY_BASE_MS`],
    breaker: {
      mode: c[`${p}_BREAKER_MODE`],
      threshold: c[`${p}_BREAKER_THRESHOLD`],
      ratio: c[`${p}_BREAKER_RATIO`],
      windowMs: c[`${p}_BREAKER_WINDOW_MS`],
      minRps: c[`${p}_BREAKER_MIN_RPS`],
      halfOpenAfterMs: c[`${p}_BREAKER_HALF_OPEN_MS`],
    },
    bulkhead: { limit: c[`${p}_BULKHEAD`], queue: c[`${p}_BULKHEAD_QUEUE`] },
  };
}

/**
 * An error that says whether it means "the upstream is failing" (AgentCallError does), so the
 * policies need not know the callers' error classes.
 */
export interface UpstreamFailureAware {
  readonly upstreamFailure: boolean;
}

/** No agent answered, none in time, or the bus is down; agent *answers* (even errors) are not failures. */
export function isAgentFailure(err: unknown): boolean {
  return err instanceof Error && (err as Partial<UpstreamFailureAware>).upstreamFailure === true;
}

/** Postgres unreachable or overloaded; constraint violations and bad queries are not outages. */
export function isPostgresFailure(err: unknown): boolean {
  return isDatabaseUnavailable(err);
}

/** Supabase Auth down: network errors, retryable fetch errors, or 5xx; wrong passwords are not. */
export function isSupabaseAuthFailure(err: unknown): boolean {
  if (!(err instanceof Error)) {
    return false;
  }
  if (err.name === 'AuthRetryableFetchError' || err instanceof TypeError) {
    return true;
  }
  const status = (err as { status?: unknown }).status;
  return typeof status === 'number' && status >= 500;
}

/**
 * The gateway's downstream policies: `agent` (NATS), `postgres`, `supabase-auth`. Breaker state is
 * in `/health/ready` details (never making the replica unready: the breaker already sheds load).
 */
export const policyRegistryProvider: FactoryProvider<PolicyRegistry> = {
  provide: PolicyRegistry,
  inject: [GATEWAY_CONFIG, METRICS_REGISTRY, PinoLogger, HealthRegistry],
  useFactory: (config: GatewayRuntimeConfig, registry: Registry, logger: PinoLogger, health: HealthRegistry) => {
    logger.setContext('resilience');
    const policies = new PolicyRegistry(
      [
        {
          name: AGENT_POLICY,
          // Backstop only: AgentClient's own AGENT_TIMEOUT_MS silence timer answers first.
          settings: settingsFor(config, 'AGENT', config.AGENT_TIMEOUT_MS + 1000),
          isFailure: isAgentFailure,
        },
        {
          name: POSTGRES_POLICY,
          settings: settingsFor(config, 'POSTGRES', config.POSTGRES_TIMEOUT_MS),
          isFailure: isPostgresFailure,
        },
        {
          name: SUPABASE_AUTH_POLICY,
          settings: settingsFor(config, 'SUPABASE_AUTH', config.SUPABASE_AUTH_TIMEOUT_MS),
          isFailure: isSupabaseAuthFailure,
        },
      ],
      { registry, metricPrefix: 'gateway', logger },
    );
    health.register({ name: 'breakers', check: () => ({ ok: true, details: policies.snapshot() }) });
    return policies;
  },
};

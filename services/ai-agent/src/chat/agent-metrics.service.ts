import { Inject, Injectable } from '@nestjs/common';
import { METRICS_REGISTRY } from '@neonpro/observability';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The autoscaling metric; the deployment manifests must name exactly this series. */
export const AGENT_QUEUE_DEPTH_METRIC = 'agent_queue_depth';

/** Prometheus series of the agent's runs; `agent_inflight` feeds readiness and autoscaling. */
@Injectable()
export class AgentMetrics {
  readonly inflight: Gauge;
  /** Runs waiting in the shared work queue, the same on every replica (prometheus-adapter takes it once). */
  readonly queueDepth: Gauge;
  readonly overloaded: Counter;
  readonly runs: Counter<'outcome'>;
  readonly runDuration: Histogram<'provider' | 'outcome'>;
  readonly invalidMessages: Counter;
  readonly toolCalls: Counter<'tool' | 'status'>;
  readonly modelTokens: Counter<'provider' | 'kind'>;
  readonly modelFallbacks: Counter<'provider' | 'reason'>;
  readonly usageTokens: Counter<'provider' | 'direction'>;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    this.inflight = new Gauge({ name: 'agent_inflight', help: 'Runs executing now', registers: [registry] });
    this.queueDepth = new Gauge({
      name: AGENT_QUEUE_DEPTH_METRIC,
      help: 'Runs waiting in AGENT_RUNS for any replica (pending count of the shared consumer)',
      registers: [registry],
    });
    this.overloaded = new Counter({
      name: 'agent_overloaded_total',
      help: 'Runs refused because slots and queue were full',
      registers: [registry],
    });
    this.runs = new Counter({
      name: 'agent_runs_total',
      help: 'Finished runs by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    });
    this.runDuration = new Histogram({
      name: 'agent_run_duration_seconds',
      help: 'Run duration by provider and outcome',
      labelNames: ['provider', 'outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80],
      registers: [registry],
    });
    this.invalidMessages = new Counter({
      name: 'agent_invalid_messages_total',
      help: 'NATS requests rejected by contract validation',
      registers: [registry],
    });
    this.toolCalls = new Counter({
      name: 'agent_tool_calls_total',
      help: 'Tool executions by tool and status (succeeded, failed)',
      labelNames: ['tool', 'status'],
      registers: [registry],
    });
    this.modelTokens = new Counter({
      name: 'agent_model_tokens_total',
      help: 'Model tokens by provider and kind (input, output); estimated where the provider reports none',
      labelNames: ['provider', 'kind'],
      registers: [registry],
    });
    // No clinic label on purpose (cardinality): per-clinic usage lives in Postgres (agent_usage).
    this.usageTokens = new Counter({
      name: 'agent_usage_tokens_total',
      help: 'Tokens of runs recorded in the usage ledger, by provider and direction (input, output)',
      labelNames: ['provider', 'direction'],
      registers: [registry],
    });
    this.modelFallbacks = new Counter({
      name: 'agent_model_fallbacks_total',
      help: 'Model calls that moved to the next provider, by failed provider and reason',
      labelNames: ['provider', 'reason'],
      registers: [registry],
    });
  }
}

import { type BeforeApplicationShutdown, Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { agentDrainTimeoutMs } from '@neonpro/config';
import { HealthRegistry } from '@neonpro/observability';
import { PinoLogger } from 'nestjs-pino';
import { AGENT_CONFIG, type AgentRuntimeConfig } from '../agent.config.js';
import { RunRegistry } from '../chat/run-registry.service.js';
import type { JetStreamAgentServer } from '../nats/jetstream-agent.server.js';
import { AGENT_NATS_SERVER } from '../nats/agent-nats.tokens.js';

/**
 * Readiness reflects this pod only (started, not draining, bus connected): never the database
 * or a model provider, so a shared outage does not take every replica out of rotation. SIGTERM:
 * stop pulling, finish the runs held (bounded by the longest allowed run), leave the queue to
 * the other replicas, then close.
 */
@Injectable()
export class AgentLifecycle implements OnModuleInit, BeforeApplicationShutdown {
  constructor(
    private readonly health: HealthRegistry,
    private readonly runs: RunRegistry,
    private readonly logger: PinoLogger,
    @Inject(AGENT_NATS_SERVER) private readonly server: JetStreamAgentServer,
    @Inject(AGENT_CONFIG) private readonly config: AgentRuntimeConfig,
  ) {}

  onModuleInit(): void {
    this.health.register({ name: 'nats', check: () => ({ ok: this.server.isConnected() }) });
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.health.markShuttingDown();
    this.server.stopAccepting();
    const inflight = this.runs.size;
    const drained = await this.runs.drain(agentDrainTimeoutMs(this.config));
    if (!drained) {
      // Unacked runs go back to the queue after the ack wait and another replica resumes them.
      this.logger.warn({ left: this.runs.size }, 'drain timeout reached; aborting remaining runs');
      this.runs.abortAll('shutting_down');
      await this.runs.drain(1000);
    }
    this.logger.info({ inflight_at_sigterm: inflight, drained }, 'agent stopped taking work');
  }
}

import { type BeforeApplicationShutdown, Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HealthRegistry } from '@neonpro/observability';
import { PinoLogger } from 'nestjs-pino';
import { AGENT_CONFIG, type AgentRuntimeConfig } from '../agent.config.js';
import { RunRegistry } from '../chat/run-registry.service.js';
import type { AgentNatsServer } from '../nats/agent-nats.server.js';
import { AGENT_NATS_SERVER } from '../nats/agent-nats.tokens.js';

/** Readiness on NATS, and the SIGTERM sequence: stop taking work, drain runs, then close. */
@Injectable()
export class AgentLifecycle implements OnModuleInit, BeforeApplicationShutdown {
  constructor(
    private readonly health: HealthRegistry,
    private readonly runs: RunRegistry,
    private readonly logger: PinoLogger,
    @Inject(AGENT_NATS_SERVER) private readonly server: AgentNatsServer,
    @Inject(AGENT_CONFIG) private readonly config: AgentRuntimeConfig,
  ) {}

  onModuleInit(): void {
    this.health.register({ name: 'nats', check: () => ({ ok: this.server.isConnected() }) });
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.health.markShuttingDown();
    this.server.stopAccepting();
    const inflight = this.runs.size;
    const drained = await this.runs.drain(this.config.AGENT_DRAIN_TIMEOUT_MS);
    if (!drained) {
      this.logger.warn({ left: this.runs.size }, 'drain timeout reached; aborting remaining runs');
      this.runs.abortAll('shutting_down');
      await this.runs.drain(1000);
    }
    this.logger.info({ inflight_at_sigterm: inflight, drained }, 'agent stopped taking work');
  }
}

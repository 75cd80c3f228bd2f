import { type BeforeApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import { HealthRegistry } from '@neonpro/observability';
import { PinoLogger } from 'nestjs-pino';
import { GATEWAY_CONFIG, type GatewayRuntimeConfig } from '../gateway.config.js';
import { StreamTracker } from './stream-tracker.service.js';

/** SIGTERM: report not-ready, refuse new chats, let open streams finish within the bound. */
@Injectable()
export class GatewayLifecycle implements BeforeApplicationShutdown {
  constructor(
    private readonly health: HealthRegistry,
    private readonly streams: StreamTracker,
    private readonly logger: PinoLogger,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayRuntimeConfig,
  ) {}

  async beforeApplicationShutdown(): Promise<void> {
    this.health.markShuttingDown();
    const open = this.streams.size;
    const drained = await this.streams.idle(this.config.SHUTDOWN_TIMEOUT_MS);
    this.logger.info({ open_at_sigterm: open, drained }, 'gateway draining done');
  }
}

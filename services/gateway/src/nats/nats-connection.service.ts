import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { jetstream, type JetStreamClient, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { natsConnectionOptions } from '@neonpro/config';
import { HealthRegistry } from '@neonpro/observability';
import { PinoLogger } from 'nestjs-pino';
import { GATEWAY_CONFIG, type GatewayRuntimeConfig } from '../gateway.config.js';

/**
 * The gateway's single NATS connection. It reconnects forever; readiness follows its state,
 * and shutdown drains it so in-flight publishes and replies are not lost.
 */
@Injectable()
export class NatsConnectionService implements OnModuleInit, OnApplicationShutdown {
  private nc?: NatsConnection;
  private jsClient?: JetStreamClient;
  private jsmClient?: Promise<JetStreamManager>;
  private connected = false;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayRuntimeConfig,
    private readonly health: HealthRegistry,
    private readonly logger: PinoLogger,
  ) {}

  async onModuleInit(): Promise<void> {
    this.health.register({ name: 'nats', check: () => ({ ok: this.isConnected() }) });
    this.nc = await connect(natsConnectionOptions(this.config, `gateway:${this.config.instanceId}`));
    this.connected = true;
    void this.watch(this.nc);
  }

  private async watch(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        this.connected = false;
        this.logger.warn('nats disconnected');
      } else if (s.type === 'reconnect') {
        this.connected = true;
        this.logger.info('nats reconnected');
      }
    }
  }

  isConnected(): boolean {
    return this.connected && this.nc !== undefined && !this.nc.isClosed() && !this.nc.isDraining();
  }

  get connection(): NatsConnection {
    if (!this.nc) {
      throw new Error('NATS is not connected yet');
    }
    return this.nc;
  }

  get js(): JetStreamClient {
    this.jsClient ??= jetstream(this.connection);
    return this.jsClient;
  }

  /** JetStream API (stream/consumer info, direct reads); no admin calls are made with it. */
  jsm(): Promise<JetStreamManager> {
    this.jsmClient ??= jetstreamManager(this.connection, { checkAPI: false });
    return this.jsmClient;
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.nc && !this.nc.isClosed()) {
      await this.nc.drain().catch(() => this.nc?.close());
    }
  }
}

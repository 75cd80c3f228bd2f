import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit, type Provider } from '@nestjs/common';
import { Database } from '@neonpro/database';
import { HealthRegistry } from '@neonpro/observability';
import { GATEWAY_CONFIG, type GatewayRuntimeConfig } from '../gateway.config.js';

export const databaseProvider: Provider = {
  provide: Database,
  inject: [GATEWAY_CONFIG],
  useFactory: (config: GatewayRuntimeConfig) =>
    new Database({
      url: config.DATABASE_URL,
      poolMax: config.DB_POOL_MAX,
      statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS,
      applicationName: `gateway-${config.instanceId}`,
    }),
};

/** Postgres readiness check and pool shutdown (after HTTP has drained). */
@Injectable()
export class DatabaseLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(Database) private readonly db: Database,
    private readonly health: HealthRegistry,
  ) {}

  onModuleInit(): void {
    this.health.register({
      name: 'postgres',
      check: async () => {
        await this.db.ping();
        return { ok: true, details: { pool_total: this.db.pool.totalCount, pool_waiting: this.db.pool.waitingCount } };
      },
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.db.close();
  }
}

import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Database } from '@neonpro/database';
import { HealthRegistry } from '@neonpro/observability';

/** Postgres readiness check, and closing the pool once the runs have drained. */
@Injectable()
export class AgentDatabaseLifecycle implements OnModuleInit, OnApplicationShutdown {
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

import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { HealthRegistry } from '@neonpro/observability';
import { Database } from './database.js';

/**
 * For a Nest app that provides `Database`: a `postgres` check shown by /health/ready but not
 * gating it (a shared database blip must not take every replica out of its Service), and closing
 * the pool at shutdown (after HTTP and in-flight work have drained).
 */
@Injectable()
export class DatabaseLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(Database) private readonly db: Database,
    private readonly health: HealthRegistry,
  ) {}

  onModuleInit(): void {
    this.health.register({
      name: 'postgres',
      affectsReadiness: false,
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

import type { Provider } from '@nestjs/common';
import { Database } from '@neonpro/database';
import { GATEWAY_CONFIG, type GatewayRuntimeConfig } from '../gateway.config.js';

export const databaseProvider: Provider = {
  provide: Database,
  inject: [GATEWAY_CONFIG],
  useFactory: (config: GatewayRuntimeConfig) =>
    new Database({
      url: config.DATABASE_URL,
      poolMax: config.DB_POOL_MAX,
      statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS,
      // Operators see who is connected (pg_stat_activity.application_name).
      applicationName: 'neonpro-gateway',
    }),
};

import { type DynamicModule, Global, Module } from '@nestjs/common';
import { HealthRegistry } from './health.js';
import { createMetricsRegistry, METRICS_REGISTRY } from './metrics.js';
import { MetricsController, OpsController } from './ops.controller.js';

/** Health registry, Prometheus registry and the ops endpoints, for any service. */
@Global()
@Module({})
export class OpsModule {
  /** `metricsRoute: false` when `startMetricsServer` serves /metrics on a port of its own. */
  static forRoot(service: string, instance?: string, options: { metricsRoute?: boolean } = {}): DynamicModule {
    return {
      module: OpsModule,
      controllers: options.metricsRoute === false ? [OpsController] : [OpsController, MetricsController],
      providers: [HealthRegistry, { provide: METRICS_REGISTRY, useValue: createMetricsRegistry(service, instance) }],
      exports: [HealthRegistry, METRICS_REGISTRY],
    };
  }
}

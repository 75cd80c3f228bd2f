import { type DynamicModule, Global, Module } from '@nestjs/common';
import { HealthRegistry } from './health.js';
import { createMetricsRegistry, METRICS_REGISTRY } from './metrics.js';
import { OpsController } from './ops.controller.js';

/** Health registry, Prometheus registry and the ops endpoints, for any service. */
@Global()
@Module({})
export class OpsModule {
  static forRoot(service: string, instance?: string): DynamicModule {
    return {
      module: OpsModule,
      controllers: [OpsController],
      providers: [HealthRegistry, { provide: METRICS_REGISTRY, useValue: createMetricsRegistry(service, instance) }],
      exports: [HealthRegistry, METRICS_REGISTRY],
    };
  }
}

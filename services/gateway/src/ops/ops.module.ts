import { Module } from '@nestjs/common';
import { GatewayLifecycle } from '../lifecycle/gateway-lifecycle.service.js';
import { StreamTracker } from '../lifecycle/stream-tracker.service.js';
import { GatewayMetrics } from '../metrics/gateway-metrics.service.js';

/**
 * The gateway's own metrics and graceful drain on SIGTERM. The probes and /metrics come from
 * @neonpro/observability's global OpsModule (imported by GatewayModule with the instance id);
 * the OpenAPI document (/docs) is mounted by app.ts from the controllers' decorators.
 */
@Module({
  providers: [GatewayMetrics, StreamTracker, GatewayLifecycle],
  exports: [GatewayMetrics, StreamTracker],
})
export class GatewayOpsModule {}

import { Controller, Get, Header, HttpCode, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { Registry } from 'prom-client';
import { HealthRegistry } from './health.js';
import { METRICS_REGISTRY } from './metrics.js';

/** `/health/live` and `/health/ready`, identical on every service. */
@Controller()
export class OpsController {
  constructor(private readonly health: HealthRegistry) {}

  @Get('health/live')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('health/ready')
  @Header('Cache-Control', 'no-store')
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<object> {
    const { ready, checks } = await this.health.readiness();
    void reply.status(ready ? 200 : 503);
    return { status: ready ? 'ok' : 'unavailable', checks };
  }
}

/** `/metrics` on the application port (left out when a separate metrics listener serves it). */
@Controller()
export class MetricsController {
  constructor(@Inject(METRICS_REGISTRY) private readonly registry: Registry) {}

  @Get('metrics')
  async metrics(@Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    void reply.header('Content-Type', this.registry.contentType).header('Cache-Control', 'no-store');
    return this.registry.metrics();
  }
}

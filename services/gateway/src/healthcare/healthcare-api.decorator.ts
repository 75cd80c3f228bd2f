import { applyDecorators, Controller, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { JwtAuthGuard } from '../auth/jwt-auth.guard.js';
import { DatabaseAdmitted } from '../edge/database-admission.js';
import { RateLimitTier } from '../rate-limit/rate-limit-tier.decorator.js';

/**
 * A clinic REST controller at `/v1/<path>`: bearer token required (JwtAuthGuard), `healthcare`
 * rate-limit tier, documented under `tag`, each route behind the database admission gate.
 * Every healthcare controller is one of these.
 */
export function HealthcareApi(tag: string, path: string): ClassDecorator {
  return applyDecorators(
    ApiTags(tag),
    ApiBearerAuth(),
    Controller(`v1/${path}`),
    UseGuards(JwtAuthGuard),
    RateLimitTier('healthcare'),
    DatabaseAdmitted(),
  );
}

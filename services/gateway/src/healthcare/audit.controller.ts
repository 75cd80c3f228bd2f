import { Get, Query, Req } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import type { Principal } from '@neonpro/auth';
import { ErrorCode } from '@neonpro/contracts';
import type { AuditEntry, Page } from '@neonpro/database';
import type { FastifyRequest } from 'fastify';
import { CurrentPrincipal } from '../auth/jwt-auth.guard.js';
import { ProblemException } from '../common/problem.js';
import { ZodValidationPipe } from '../common/zod-validation.pipe.js';
import { ApiQueryFrom } from '../docs/json-schema.js';
import { type AuditQuery, auditQuerySchema } from './healthcare.schema.js';
import { HealthcareApi } from './healthcare-api.decorator.js';
import { UserDb } from './user-db.service.js';

@HealthcareApi('audit', 'audit')
export class AuditController {
  constructor(private readonly db: UserDb) {}

  @Get()
  @ApiOperation({ summary: 'LGPD audit trail of the clinic (admins only), newest first' })
  @ApiQueryFrom(auditQuerySchema)
  list(
    @Query(new ZodValidationPipe(auditQuerySchema, 'query')) q: AuditQuery,
    @CurrentPrincipal() principal: Principal,
    @Req() req: FastifyRequest,
  ): Promise<Page<AuditEntry>> {
    if (principal.role !== 'admin') {
      throw new ProblemException(403, ErrorCode.Forbidden, 'Only admins read the audit log.');
    }
    return this.db.run(req, (r) => r.audit.list(q));
  }
}

import { Get, Query, Req } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import type { Principal } from '@neonpro/auth';
import { ErrorCode } from '@neonpro/contracts';
import type { AuditEntry, Page } from '@neonpro/database';
import type { FastifyRequest } from 'fastify';
import { CurrentPrincipal } from '../auth/jwt-auth.guard.js';
import { ProblemException } from '../common/problem.js';
import { ZodValidationPipe } from '../common/zod-validation.pipe.js';
import { ApiQueryFrom, schemaRef } from '../common/json-schema.js';
import { auditPageSchema } from './healthcare-responses.schema.js';
import { type AuditQuery, auditQuerySchema } from './healthcare.schema.js';
import { AnsweredAtEdge } from '../edge/edge-answer.js';
import { HealthcareApi } from './healthcare-api.decorator.js';
import { UserDb } from './user-db.service.js';

const auditQueryPipe = new ZodValidationPipe(auditQuerySchema, 'query');

@HealthcareApi('audit', 'audit')
export class AuditController {
  constructor(private readonly db: UserDb) {}

  @Get()
  // The edge answers only callers it has set (`req.principal`), as @CurrentPrincipal reads it.
  @AnsweredAtEdge<AuditController>((c, req) => c.list(auditQueryPipe.transform(req.query), req.principal!, req))
  @ApiOperation({
    operationId: 'listAuditEntries',
    summary: 'LGPD audit trail of the clinic (admins only), newest first',
  })
  @ApiOkResponse({ description: 'One page of audit entries.', schema: schemaRef(auditPageSchema) })
  @ApiQueryFrom(auditQuerySchema)
  list(
    @Query(auditQueryPipe) q: AuditQuery,
    @CurrentPrincipal() principal: Principal,
    @Req() req: FastifyRequest,
  ): Promise<Page<AuditEntry>> {
    if (principal.role !== 'admin') {
      throw new ProblemException(403, ErrorCode.Forbidden, 'Only admins read the audit log.');
    }
    return this.db.run(req, (r) => r.audit.list(q));
  }
}

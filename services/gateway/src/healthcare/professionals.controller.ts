import { Get, Req } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { schemaRef } from '../common/json-schema.js';
import { professionalListSchema, type ProfessionalView } from './healthcare-responses.schema.js';
import { AnsweredAtEdge } from '../edge/edge-answer.js';
import { HealthcareApi } from './healthcare-api.decorator.js';
import { UserDb } from './user-db.service.js';

@HealthcareApi('professionals', 'professionals')
export class ProfessionalsController {
  constructor(private readonly db: UserDb) {}

  @Get()
  @AnsweredAtEdge<ProfessionalsController>((c, req) => c.list(req))
  @ApiOperation({ operationId: 'listProfessionals', summary: "The caller's clinic's professionals" })
  @ApiOkResponse({ description: 'All of them.', schema: schemaRef(professionalListSchema) })
  list(@Req() req: FastifyRequest): Promise<{ data: ProfessionalView[]; next_cursor: null }> {
    return this.db.run(req, async (r) => ({
      data: (await r.professionals.list()).map((p) => ({ id: p.id, full_name: p.full_name, specialty: p.specialty })),
      next_cursor: null,
    }));
  }
}

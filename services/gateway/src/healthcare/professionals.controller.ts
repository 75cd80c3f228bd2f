import { Get, Req } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { HealthcareApi } from './healthcare-api.decorator.js';
import { UserDb } from './user-db.service.js';

interface ProfessionalView {
  id: string;
  full_name: string;
  specialty: string | null;
}

@HealthcareApi('professionals', 'professionals')
export class ProfessionalsController {
  constructor(private readonly db: UserDb) {}

  @Get()
  @ApiOperation({ summary: "The caller's clinic's professionals" })
  list(@Req() req: FastifyRequest): Promise<{ data: ProfessionalView[]; next_cursor: null }> {
    return this.db.run(req, async (r) => ({
      data: (await r.professionals.list()).map((p) => ({ id: p.id, full_name: p.full_name, specialty: p.specialty })),
      next_cursor: null,
    }));
  }
}

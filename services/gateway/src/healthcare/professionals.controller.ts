import { Controller, Get, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { JwtAuthGuard } from '../auth/jwt-auth.guard.js';
import { RateLimitTier } from '../rate-limit/rate-limit-tier.decorator.js';
import { UserDb } from './user-db.service.js';

interface ProfessionalView {
  id: string;
  full_name: string;
  specialty: string | null;
}

@ApiTags('professionals')
@ApiBearerAuth()
@Controller('v1/professionals')
@UseGuards(JwtAuthGuard)
@RateLimitTier('healthcare')
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

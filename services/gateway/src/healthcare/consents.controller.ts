import { Body, Get, Param, Patch, Post, Req } from '@nestjs/common';
import { ApiBody, ApiOperation } from '@nestjs/swagger';
import type { Consent } from '@neonpro/database';
import type { FastifyRequest } from 'fastify';
import { ZodValidationPipe } from '../common/zod-validation.pipe.js';
import { jsonSchema } from '../docs/json-schema.js';
import {
  consentCreateSchema,
  type ConsentCreate,
  consentParamSchema,
  consentPatchSchema,
  idParamSchema,
} from './healthcare.schema.js';
import { HealthcareApi } from './healthcare-api.decorator.js';
import { UserDb } from './user-db.service.js';

@HealthcareApi('consents', 'patients/:id/consents')
export class ConsentsController {
  constructor(private readonly db: UserDb) {}

  @Get()
  @ApiOperation({ summary: "A patient's consents" })
  list(
    @Param(new ZodValidationPipe(idParamSchema, 'path')) p: { id: string },
    @Req() req: FastifyRequest,
  ): Promise<{ data: Consent[] }> {
    return this.db.run(req, async (r) => ({ data: await r.consents.list(p.id) }));
  }

  @Post()
  @ApiOperation({ summary: 'Record a consent' })
  @ApiBody({ schema: jsonSchema(consentCreateSchema) })
  grant(
    @Param(new ZodValidationPipe(idParamSchema, 'path')) p: { id: string },
    @Body(new ZodValidationPipe(consentCreateSchema, 'consent')) body: ConsentCreate,
    @Req() req: FastifyRequest,
  ): Promise<Consent> {
    return this.db.run(req, (r) => r.consents.grant(p.id, body));
  }

  @Patch(':consentId')
  @ApiOperation({ summary: 'Revoke a consent: {"revoked": true}' })
  @ApiBody({ schema: jsonSchema(consentPatchSchema) })
  revoke(
    @Param(new ZodValidationPipe(consentParamSchema, 'path')) p: { id: string; consentId: string },
    @Body(new ZodValidationPipe(consentPatchSchema, 'consent change')) _body: { revoked: true },
    @Req() req: FastifyRequest,
  ): Promise<Consent> {
    return this.db.run(req, (r) => r.consents.revoke(p.id, p.consentId));
  }
}

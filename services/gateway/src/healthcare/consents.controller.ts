import { Body, Get, Param, Patch, Post, Req } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import type { Consent } from '@neonpro/database';
import type { FastifyRequest } from 'fastify';
import { ZodValidationPipe } from '../common/zod-validation.pipe.js';
import { ApiParamsFrom, jsonSchema, schemaRef } from '../common/json-schema.js';
import { consentListSchema, consentSchema } from './healthcare-responses.schema.js';
import {
  consentCreateSchema,
  type ConsentCreate,
  consentParamSchema,
  consentPatchSchema,
  idParamSchema,
} from './healthcare.schema.js';
import { AnsweredAtEdge } from '../edge/edge-answer.js';
import { HealthcareApi } from './healthcare-api.decorator.js';
import { UserDb } from './user-db.service.js';

const patientIdPipe = new ZodValidationPipe(idParamSchema, 'path');

@HealthcareApi('consents', 'patients/:id/consents')
export class ConsentsController {
  constructor(private readonly db: UserDb) {}

  @Get()
  @AnsweredAtEdge<ConsentsController>((c, req) => c.list(patientIdPipe.transform(req.params), req))
  @ApiOperation({ operationId: 'listConsents', summary: "A patient's consents" })
  @ApiParamsFrom(idParamSchema)
  @ApiOkResponse({ description: 'All of them, oldest first.', schema: schemaRef(consentListSchema) })
  list(@Param(patientIdPipe) p: { id: string }, @Req() req: FastifyRequest): Promise<{ data: Consent[] }> {
    return this.db.run(req, async (r) => ({ data: await r.consents.list(p.id) }));
  }

  @Post()
  @ApiOperation({ operationId: 'createConsent', summary: 'Record a consent' })
  @ApiParamsFrom(idParamSchema)
  @ApiBody({ schema: jsonSchema(consentCreateSchema) })
  @ApiCreatedResponse({ description: 'The recorded consent.', schema: schemaRef(consentSchema) })
  grant(
    @Param(patientIdPipe) p: { id: string },
    @Body(new ZodValidationPipe(consentCreateSchema, 'consent')) body: ConsentCreate,
    @Req() req: FastifyRequest,
  ): Promise<Consent> {
    return this.db.run(req, (r) => r.consents.grant(p.id, body));
  }

  @Patch(':consentId')
  @ApiOperation({ operationId: 'revokeConsent', summary: 'Revoke a consent: {"revoked": true}' })
  @ApiParamsFrom(consentParamSchema)
  @ApiBody({ schema: jsonSchema(consentPatchSchema) })
  @ApiOkResponse({ description: 'The revoked consent.', schema: schemaRef(consentSchema) })
  revoke(
    @Param(new ZodValidationPipe(consentParamSchema, 'path')) p: { id: string; consentId: string },
    @Body(new ZodValidationPipe(consentPatchSchema, 'consent change')) _body: { revoked: true },
    @Req() req: FastifyRequest,
  ): Promise<Consent> {
    return this.db.run(req, (r) => r.consents.revoke(p.id, p.consentId));
  }
}

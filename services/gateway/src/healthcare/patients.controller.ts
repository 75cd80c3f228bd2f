import { Body, Delete, Get, Param, Patch, Post, Query, Req } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import type { Page, Patient } from '@neonpro/database';
import type { FastifyRequest } from 'fastify';
import { ZodValidationPipe } from '../common/zod-validation.pipe.js';
import { ApiParamsFrom, ApiProblems, ApiQueryFrom, jsonSchema, schemaRef } from '../common/json-schema.js';
import {
  patientErasureSchema,
  patientExportSchema,
  patientPageSchema,
  patientSchema,
} from './healthcare-responses.schema.js';
import {
  idParamSchema,
  type PatientCreate,
  patientCreateSchema,
  type PatientListQuery,
  patientListQuerySchema,
  type PatientPatchBody,
  patientPatchSchema,
} from './healthcare.schema.js';
import { AnsweredAtEdge } from '../edge/edge-answer.js';
import { HealthcareApi } from './healthcare-api.decorator.js';
import { UserDb } from './user-db.service.js';

type IdParam = { id: string };
const idPipe = new ZodValidationPipe(idParamSchema, 'path');
const listQueryPipe = new ZodValidationPipe(patientListQuerySchema, 'query');

@HealthcareApi('patients', 'patients')
export class PatientsController {
  constructor(private readonly db: UserDb) {}

  @Get()
  @AnsweredAtEdge<PatientsController>((c, req) => c.list(listQueryPipe.transform(req.query), req))
  @ApiOperation({ operationId: 'listPatients', summary: 'List or search patients (name, accent-insensitive; or CPF)' })
  @ApiQueryFrom(patientListQuerySchema)
  @ApiOkResponse({ description: 'One page of patients.', schema: schemaRef(patientPageSchema) })
  list(@Query(listQueryPipe) q: PatientListQuery, @Req() req: FastifyRequest): Promise<Page<Patient>> {
    return this.db.run(req, (r) => r.patients.search(q));
  }

  @Post()
  @ApiOperation({ operationId: 'createPatient', summary: 'Create a patient' })
  @ApiBody({ schema: jsonSchema(patientCreateSchema) })
  @ApiCreatedResponse({ description: 'The new patient.', schema: schemaRef(patientSchema) })
  @ApiProblems([409, 'A patient with this CPF already exists (`patient_exists`).'])
  create(
    @Body(new ZodValidationPipe(patientCreateSchema, 'patient')) body: PatientCreate,
    @Req() req: FastifyRequest,
  ): Promise<Patient> {
    return this.db.run(req, (r) => r.patients.create(body));
  }

  @Get(':id')
  @AnsweredAtEdge<PatientsController>((c, req) => c.get(idPipe.transform(req.params), req))
  @ApiOperation({ operationId: 'getPatient', summary: 'One patient' })
  @ApiParamsFrom(idParamSchema)
  @ApiOkResponse({ description: 'The patient.', schema: schemaRef(patientSchema) })
  get(@Param(idPipe) p: IdParam, @Req() req: FastifyRequest): Promise<Patient> {
    return this.db.runStatement(req, (r) => r.patients.get(p.id));
  }

  @Patch(':id')
  @ApiOperation({ operationId: 'updatePatient', summary: 'Update a patient' })
  @ApiParamsFrom(idParamSchema)
  @ApiBody({ schema: jsonSchema(patientPatchSchema) })
  @ApiOkResponse({ description: 'The updated patient.', schema: schemaRef(patientSchema) })
  @ApiProblems([409, 'Erased patients cannot change (`patient_anonymized`); CPF taken (`patient_exists`).'])
  update(
    @Param(idPipe) p: IdParam,
    @Body(new ZodValidationPipe(patientPatchSchema, 'patient changes')) body: PatientPatchBody,
    @Req() req: FastifyRequest,
  ): Promise<Patient> {
    return this.db.run(req, (r) => r.patients.update(p.id, body));
  }

  @Get(':id/export')
  @ApiOperation({
    operationId: 'exportPatient',
    summary: 'LGPD data export: everything held about the patient (admins)',
  })
  @ApiParamsFrom(idParamSchema)
  @ApiOkResponse({ description: 'Everything held about the patient.', schema: schemaRef(patientExportSchema) })
  export(@Param(idPipe) p: IdParam, @Req() req: FastifyRequest): Promise<Record<string, unknown>> {
    return this.db.run(req, (r) => r.patients.export(p.id));
  }

  @Delete(':id')
  @ApiOperation({ operationId: 'erasePatient', summary: 'LGPD erasure by anonymisation (admins); idempotent' })
  @ApiParamsFrom(idParamSchema)
  @ApiOkResponse({ description: 'Erased (or already erased).', schema: schemaRef(patientErasureSchema) })
  erase(
    @Param(idPipe) p: IdParam,
    @Req() req: FastifyRequest,
  ): Promise<{ id: string; anonymized_at: string; already_erased: boolean }> {
    return this.db.run(req, (r) => r.patients.erase(p.id));
  }
}

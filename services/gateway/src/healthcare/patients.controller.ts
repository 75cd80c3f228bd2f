import { Body, Delete, Get, Param, Patch, Post, Query, Req } from '@nestjs/common';
import { ApiBody, ApiOperation } from '@nestjs/swagger';
import type { Page, Patient } from '@neonpro/database';
import type { FastifyRequest } from 'fastify';
import { ZodValidationPipe } from '../common/zod-validation.pipe.js';
import { ApiQueryFrom, jsonSchema } from '../docs/json-schema.js';
import {
  idParamSchema,
  type PatientCreate,
  patientCreateSchema,
  type PatientListQuery,
  patientListQuerySchema,
  type PatientPatchBody,
  patientPatchSchema,
} from './healthcare.schema.js';
import { HealthcareApi } from './healthcare-api.decorator.js';
import { UserDb } from './user-db.service.js';

type IdParam = { id: string };
const idPipe = new ZodValidationPipe(idParamSchema, 'path');

@HealthcareApi('patients', 'patients')
export class PatientsController {
  constructor(private readonly db: UserDb) {}

  @Get()
  @ApiOperation({ summary: 'List or search patients (name, accent-insensitive; or CPF)' })
  @ApiQueryFrom(patientListQuerySchema)
  list(
    @Query(new ZodValidationPipe(patientListQuerySchema, 'query')) q: PatientListQuery,
    @Req() req: FastifyRequest,
  ): Promise<Page<Patient>> {
    return this.db.run(req, (r) => r.patients.search(q));
  }

  @Post()
  @ApiOperation({ summary: 'Create a patient' })
  @ApiBody({ schema: jsonSchema(patientCreateSchema) })
  create(
    @Body(new ZodValidationPipe(patientCreateSchema, 'patient')) body: PatientCreate,
    @Req() req: FastifyRequest,
  ): Promise<Patient> {
    return this.db.run(req, (r) => r.patients.create(body));
  }

  @Get(':id')
  @ApiOperation({ summary: 'One patient' })
  get(@Param(idPipe) p: IdParam, @Req() req: FastifyRequest): Promise<Patient> {
    return this.db.run(req, (r) => r.patients.get(p.id));
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Update a patient' })
  @ApiBody({ schema: jsonSchema(patientPatchSchema) })
  update(
    @Param(idPipe) p: IdParam,
    @Body(new ZodValidationPipe(patientPatchSchema, 'patient changes')) body: PatientPatchBody,
    @Req() req: FastifyRequest,
  ): Promise<Patient> {
    return this.db.run(req, (r) => r.patients.update(p.id, body));
  }

  @Get(':id/export')
  @ApiOperation({ summary: 'LGPD data export: everything held about the patient (admins)' })
  export(@Param(idPipe) p: IdParam, @Req() req: FastifyRequest): Promise<Record<string, unknown>> {
    return this.db.run(req, (r) => r.patients.export(p.id));
  }

  @Delete(':id')
  @ApiOperation({ summary: 'LGPD erasure by anonymisation (admins); idempotent' })
  erase(
    @Param(idPipe) p: IdParam,
    @Req() req: FastifyRequest,
  ): Promise<{ id: string; anonymized_at: string; already_erased: boolean }> {
    return this.db.run(req, (r) => r.patients.erase(p.id));
  }
}

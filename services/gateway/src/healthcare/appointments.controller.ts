import { Body, Get, Param, Patch, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import type { Appointment, Page } from '@neonpro/database';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ZodValidationPipe } from '../common/zod-validation.pipe.js';
import { ApiParamsFrom, ApiProblems, ApiQueryFrom, jsonSchema, schemaRef } from '../common/json-schema.js';
import { appointmentPageSchema, appointmentSchema } from './healthcare-responses.schema.js';
import {
  type AppointmentCreate,
  appointmentCreateSchema,
  type AppointmentListQuery,
  appointmentListQuerySchema,
  type AppointmentPatchBody,
  appointmentPatchSchema,
  idParamSchema,
} from './healthcare.schema.js';
import { AnsweredAtEdge } from '../edge/edge-answer.js';
import { HealthcareApi } from './healthcare-api.decorator.js';
import { UserDb } from './user-db.service.js';

const idPipe = new ZodValidationPipe(idParamSchema, 'path');
const listQueryPipe = new ZodValidationPipe(appointmentListQuerySchema, 'query');

@HealthcareApi('appointments', 'appointments')
export class AppointmentsController {
  constructor(private readonly db: UserDb) {}

  @Get()
  @AnsweredAtEdge<AppointmentsController>((c, req) => c.list(listQueryPipe.transform(req.query), req))
  @ApiOperation({
    operationId: 'listAppointments',
    summary: 'List appointments (by range, patient, professional, status)',
  })
  @ApiQueryFrom(appointmentListQuerySchema)
  @ApiOkResponse({ description: 'One page of appointments.', schema: schemaRef(appointmentPageSchema) })
  list(@Query(listQueryPipe) q: AppointmentListQuery, @Req() req: FastifyRequest): Promise<Page<Appointment>> {
    return this.db.run(req, (r) => r.appointments.list(q));
  }

  @Get(':id')
  @AnsweredAtEdge<AppointmentsController>((c, req) => c.get(idPipe.transform(req.params), req))
  @ApiOperation({ operationId: 'getAppointment', summary: 'One appointment' })
  @ApiParamsFrom(idParamSchema)
  @ApiOkResponse({ description: 'The appointment.', schema: schemaRef(appointmentSchema) })
  get(@Param(idPipe) p: { id: string }, @Req() req: FastifyRequest): Promise<Appointment> {
    return this.db.runStatement(req, (r) => r.appointments.get(p.id));
  }

  @Post()
  @ApiOperation({
    operationId: 'createAppointment',
    summary: 'Book an appointment; 409 appointment_conflict on overlap; same idempotency_key → same appointment',
  })
  @ApiBody({ schema: jsonSchema(appointmentCreateSchema) })
  @ApiCreatedResponse({ description: 'Booked.', schema: schemaRef(appointmentSchema) })
  @ApiOkResponse({ description: 'Already booked with this idempotency_key.', schema: schemaRef(appointmentSchema) })
  @ApiProblems([
    409,
    'The professional is busy then (`appointment_conflict`), or the key was used for another booking (`idempotency_conflict`).',
  ])
  async create(
    @Body(new ZodValidationPipe(appointmentCreateSchema, 'appointment')) body: AppointmentCreate,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Appointment> {
    const ends_at =
      body.ends_at ?? new Date(Date.parse(body.starts_at) + (body.duration_minutes ?? 0) * 60000).toISOString();
    const { appointment, created } = await this.db.run(req, (r) =>
      r.appointments.book({
        patient_id: body.patient_id,
        professional_id: body.professional_id,
        starts_at: body.starts_at,
        ends_at,
        procedure: body.procedure,
        notes: body.notes,
        status: body.status,
        idempotency_key: body.idempotency_key,
      }),
    );
    void reply.status(created ? 201 : 200);
    return appointment;
  }

  @Patch(':id')
  @ApiOperation({ operationId: 'updateAppointment', summary: 'Change status or reschedule' })
  @ApiParamsFrom(idParamSchema)
  @ApiBody({ schema: jsonSchema(appointmentPatchSchema) })
  @ApiOkResponse({ description: 'The updated appointment.', schema: schemaRef(appointmentSchema) })
  @ApiProblems([409, 'The new time overlaps another appointment (`appointment_conflict`).'])
  update(
    @Param(idPipe) p: { id: string },
    @Body(new ZodValidationPipe(appointmentPatchSchema, 'appointment changes')) body: AppointmentPatchBody,
    @Req() req: FastifyRequest,
  ): Promise<Appointment> {
    return this.db.run(req, (r) => r.appointments.update(p.id, body));
  }
}

import { APPOINTMENT_STATUSES } from '@neonpro/contracts';
import { isValidCpf } from '@neonpro/database';
import { z } from 'zod';

// Any 8-4-4-4-12 hex id (seeded ids are md5-derived, not RFC-versioned).
export const idSchema = z.guid('must be a UUID');
export const idParamSchema = z.strictObject({ id: idSchema });
export const consentParamSchema = z.strictObject({ id: idSchema, consentId: idSchema });

const limit = z.coerce.number().int().min(1).max(100).optional();
const cursor = z.string().min(1).max(500).optional();
const datetime = z.iso.datetime({ offset: true });
const nullableText = (max: number) => z.string().trim().max(max).nullable().optional();

const cpf = z
  .string()
  .trim()
  .max(20)
  .refine((v) => isValidCpf(v), 'must be a valid CPF (11 digits with valid check digits)');

export const patientListQuerySchema = z.strictObject({
  search: z.string().trim().max(100).optional(),
  limit,
  cursor,
});

const patientFields = {
  full_name: z.string().trim().min(2).max(200),
  cpf,
  birth_date: z.iso.date().nullable().optional(),
  phone: nullableText(40),
  email: z.email().max(320).nullable().optional(),
  clinical_notes: nullableText(20000),
};

export const patientCreateSchema = z.strictObject(patientFields);
export const patientPatchSchema = z
  .strictObject({
    full_name: patientFields.full_name.optional(),
    cpf: cpf.optional(),
    birth_date: patientFields.birth_date,
    phone: patientFields.phone,
    email: patientFields.email,
    clinical_notes: patientFields.clinical_notes,
  })
  .refine((v) => Object.keys(v).length > 0, 'send at least one field to change');

const status = z.enum(APPOINTMENT_STATUSES);

export const appointmentListQuerySchema = z
  .strictObject({
    from: datetime.optional(),
    to: datetime.optional(),
    patient_id: idSchema.optional(),
    professional_id: idSchema.optional(),
    status: status.optional(),
    limit,
    cursor,
  })
  .refine((q) => !q.from || !q.to || q.from < q.to || Date.parse(q.from) < Date.parse(q.to), {
    error: 'from must be before to',
    path: ['to'],
  });

export const appointmentCreateSchema = z
  .strictObject({
    patient_id: idSchema,
    professional_id: idSchema,
    starts_at: datetime,
    ends_at: datetime.optional(),
    duration_minutes: z.number().int().min(5).max(720).optional(),
    procedure: z.string().trim().min(1).max(200),
    notes: nullableText(5000),
    status: z.enum(['scheduled', 'confirmed']).optional(),
    idempotency_key: z.string().min(1).max(200).optional(),
  })
  .refine((v) => (v.ends_at === undefined) !== (v.duration_minutes === undefined), {
    error: 'send exactly one of ends_at or duration_minutes',
    path: ['ends_at'],
  })
  .refine((v) => !v.ends_at || Date.parse(v.ends_at) > Date.parse(v.starts_at), {
    error: 'ends_at must be after starts_at',
    path: ['ends_at'],
  });

export const appointmentPatchSchema = z
  .strictObject({
    status: status.optional(),
    starts_at: datetime.optional(),
    ends_at: datetime.optional(),
    professional_id: idSchema.optional(),
    procedure: z.string().trim().min(1).max(200).optional(),
    notes: nullableText(5000),
  })
  .refine((v) => Object.keys(v).length > 0, 'send at least one field to change')
  .refine((v) => (v.starts_at === undefined) === (v.ends_at === undefined), {
    error: 'rescheduling needs both starts_at and ends_at',
    path: ['ends_at'],
  })
  .refine((v) => !v.starts_at || !v.ends_at || Date.parse(v.ends_at) > Date.parse(v.starts_at), {
    error: 'ends_at must be after starts_at',
    path: ['ends_at'],
  });

/** LGPD art. 7 / art. 11 legal bases. */
export const LEGAL_BASES = [
  'consent',
  'health_protection',
  'legal_obligation',
  'contract',
  'legitimate_interest',
  'regular_exercise_of_rights',
] as const;

export const consentCreateSchema = z.strictObject({
  purpose: z.string().trim().min(1).max(100),
  legal_basis: z.enum(LEGAL_BASES),
  granted_at: datetime.optional(),
});

export const consentPatchSchema = z.strictObject({
  revoked: z.literal(true),
});

export const auditQuerySchema = z.strictObject({
  subject_id: idSchema.optional(),
  from: datetime.optional(),
  to: datetime.optional(),
  limit: z.coerce.number().int().min(1).max(200).optional(),
  cursor,
});

export type PatientListQuery = z.output<typeof patientListQuerySchema>;
export type PatientCreate = z.output<typeof patientCreateSchema>;
export type PatientPatchBody = z.output<typeof patientPatchSchema>;
export type AppointmentListQuery = z.output<typeof appointmentListQuerySchema>;
export type AppointmentCreate = z.output<typeof appointmentCreateSchema>;
export type AppointmentPatchBody = z.output<typeof appointmentPatchSchema>;
export type ConsentCreate = z.output<typeof consentCreateSchema>;
export type AuditQuery = z.output<typeof auditQuerySchema>;

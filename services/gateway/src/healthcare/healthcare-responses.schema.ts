import { APPOINTMENT_STATUSES } from '@neonpro/contracts';
import type { Appointment, AuditEntry, Consent, Patient } from '@neonpro/database';
import { z } from 'zod';

// What the healthcare routes answer. The contract test validates every real response against
// the document built from these, and the type checks below keep them in step with the repositories.

const uuid = z.guid();
const timestamp = z.iso.datetime({ offset: true });

/** One page of a list: pass `next_cursor` back as `cursor` until it is null. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ data: z.array(item), next_cursor: z.string().nullable() });
}

export const patientSchema = z
  .object({
    id: uuid,
    clinic_id: uuid,
    full_name: z.string(),
    cpf: z.string().nullable(),
    birth_date: z.iso.date().nullable(),
    phone: z.string().nullable(),
    email: z.string().nullable(),
    clinical_notes: z.string().nullable().optional().meta({ description: 'Absent for receptionists.' }),
    anonymized_at: timestamp.nullable(),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .meta({
    id: 'Patient',
    examples: [
      {
        id: '6a1f0c52-9d7e-4f3b-8a21-0c5e7d9b4f10',
        clinic_id: '0b7e3c1a-2f4d-4e8a-9c6b-5d1f2a3e4b70',
        full_name: 'Maria Araújo Pereira',
        cpf: '529.982.247-25',
        birth_date: '1988-04-12',
        phone: '+55 11 98765-4321',
        email: 'maria@example.com',
        clinical_notes: null,
        anonymized_at: null,
        created_at: '2026-11-20T13:05:00.000Z',
        updated_at: '2026-11-20T13:05:00.000Z',
      },
    ],
  });

export const appointmentSchema = z
  .object({
    id: uuid,
    clinic_id: uuid,
    patient_id: uuid,
    patient_name: z.string(),
    professional_id: uuid,
    professional_name: z.string(),
    starts_at: timestamp,
    ends_at: timestamp,
    procedure: z.string(),
    status: z.enum(APPOINTMENT_STATUSES),
    notes: z.string().nullable(),
    idempotency_key: z.string().nullable(),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .meta({
    id: 'Appointment',
    examples: [
      {
        id: '3c9d2e71-5a4b-4c8f-9e10-7b6a5d4c3b21',
        clinic_id: '0b7e3c1a-2f4d-4e8a-9c6b-5d1f2a3e4b70',
        patient_id: '6a1f0c52-9d7e-4f3b-8a21-0c5e7d9b4f10',
        patient_name: 'Maria Araújo Pereira',
        professional_id: '9e8d7c6b-5a49-4382-a1b0-c9d8e7f6a5b4',
        professional_name: 'Dra. Lima',
        starts_at: '2026-12-02T20:00:00.000Z',
        ends_at: '2026-12-02T20:45:00.000Z',
        procedure: 'Botox',
        status: 'scheduled',
        notes: null,
        idempotency_key: 'web-8f2c',
        created_at: '2026-12-01T14:00:00.000Z',
        updated_at: '2026-12-01T14:00:00.000Z',
      },
    ],
  });

export const consentSchema = z
  .object({
    id: uuid,
    clinic_id: uuid,
    patient_id: uuid,
    purpose: z.string(),
    legal_basis: z.string(),
    granted_at: timestamp,
    revoked_at: timestamp.nullable(),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .meta({ id: 'Consent' });

export const auditEntrySchema = z
  .object({
    id: z.int(),
    clinic_id: uuid,
    actor_id: uuid.nullable(),
    action: z.string(),
    subject_type: z.string(),
    subject_id: z.string().nullable(),
    request_id: z.string().nullable(),
    at: timestamp,
    details: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'AuditEntry' });

export const professionalSchema = z
  .object({ id: uuid, full_name: z.string(), specialty: z.string().nullable() })
  .meta({ id: 'Professional' });
export type ProfessionalView = z.infer<typeof professionalSchema>;

export const patientErasureSchema = z
  .object({ id: uuid, anonymized_at: timestamp, already_erased: z.boolean() })
  .meta({ id: 'PatientErasure' });

/** LGPD export: the rows as stored, so the nested shapes stay open. */
export const patientExportSchema = z
  .looseObject({
    exported_at: timestamp,
    patient: patientSchema,
    appointments: z.array(z.record(z.string(), z.unknown())),
    consents: z.array(z.record(z.string(), z.unknown())),
    audit: z.array(z.record(z.string(), z.unknown())),
  })
  .meta({ id: 'PatientExport' });

export const patientPageSchema = pageOf(patientSchema).meta({ id: 'PatientPage' });
export const appointmentPageSchema = pageOf(appointmentSchema).meta({ id: 'AppointmentPage' });
export const auditPageSchema = pageOf(auditEntrySchema).meta({ id: 'AuditPage' });
export const professionalListSchema = z
  .object({ data: z.array(professionalSchema), next_cursor: z.null() })
  .meta({ id: 'ProfessionalList' });
export const consentListSchema = z.object({ data: z.array(consentSchema) }).meta({ id: 'ConsentList' });

// Compile-time agreement with the repositories' row types (a renamed or retyped column fails here).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const agree = <_T extends true>(): void => undefined;
agree<Same<z.infer<typeof patientSchema>, Patient>>();
agree<Same<z.infer<typeof appointmentSchema>, Appointment>>();
agree<Same<z.infer<typeof consentSchema>, Consent>>();
agree<Same<Omit<z.infer<typeof auditEntrySchema>, 'details'>, Omit<AuditEntry, 'details'>>>();

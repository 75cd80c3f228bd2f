import { APPOINTMENT_STATUSES } from '@neonpro/contracts';
import { z } from 'zod';

/** Domain shapes the agent's tools read and write. The Postgres adapter returns exactly these. */

export const patientSchema = z.object({
  id: z.guid(),
  full_name: z.string(),
  cpf: z.string().nullable(),
  birth_date: z.iso.date().nullable(),
  phone: z.string().nullable(),
  email: z.string().nullable(),
});
export type Patient = z.infer<typeof patientSchema>;

export const appointmentSchema = z.object({
  id: z.guid(),
  patient_id: z.guid(),
  patient_name: z.string(),
  professional_id: z.guid(),
  professional_name: z.string(),
  starts_at: z.iso.datetime({ offset: true }),
  ends_at: z.iso.datetime({ offset: true }),
  procedure: z.string(),
  status: z.enum(APPOINTMENT_STATUSES),
});
export type Appointment = z.infer<typeof appointmentSchema>;

export const professionalSchema = z.object({
  id: z.guid(),
  full_name: z.string(),
  specialty: z.string().nullable(),
  /** The login of this professional, when they have one (lets "my schedule" resolve). */
  user_id: z.guid().nullable().optional(),
});
export type Professional = z.infer<typeof professionalSchema>;

export const procedureSchema = z.object({
  name: z.string(),
  duration_minutes: z.number().int().positive(),
});
export type Procedure = z.infer<typeof procedureSchema>;

export const clinicInfoSchema = z.object({
  name: z.string(),
  /** IANA zone the clinic works in, e.g. America/Sao_Paulo. */
  timezone: z.string(),
  phone: z.string().nullable().optional(),
  address: z.string().nullable().optional(),
  /** As stored: `{"mon-fri": "08:00-18:00", "sat": "08:00-12:00"}`. */
  opening_hours: z.record(z.string(), z.string()).optional(),
  procedures: z.array(procedureSchema).optional(),
  professionals: z.array(professionalSchema),
});
export type ClinicInfo = z.infer<typeof clinicInfoSchema>;

export const patientSummarySchema = z.object({
  patient: patientSchema,
  upcoming: z.array(appointmentSchema),
  recent: z.array(appointmentSchema),
});
export type PatientSummary = z.infer<typeof patientSummarySchema>;

export const freeSlotSchema = z.object({
  starts_at: z.iso.datetime({ offset: true }),
  ends_at: z.iso.datetime({ offset: true }),
});
export type FreeSlot = z.infer<typeof freeSlotSchema>;

export const bookResultSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('booked'), appointment: appointmentSchema }),
  /** The slot overlaps another appointment of the professional (or the patient). */
  z.object({ status: z.literal('conflict'), conflicting: z.array(appointmentSchema) }),
]);
export type BookResult = z.infer<typeof bookResultSchema>;

export const cancelResultSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('cancelled'), appointment: appointmentSchema }),
  z.object({ status: z.literal('not_found') }),
  /** Completed or no-show appointments cannot be cancelled. */
  z.object({ status: z.literal('not_cancellable'), appointment: appointmentSchema }),
]);
export type CancelResult = z.infer<typeof cancelResultSchema>;

export const rescheduleResultSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('rescheduled'), appointment: appointmentSchema }),
  z.object({ status: z.literal('conflict'), conflicting: z.array(appointmentSchema) }),
  z.object({ status: z.literal('not_found') }),
  /** Cancelled, completed or no-show appointments keep their time. */
  z.object({ status: z.literal('not_reschedulable'), appointment: appointmentSchema }),
]);
export type RescheduleResult = z.infer<typeof rescheduleResultSchema>;

import { z } from 'zod';
import { APPOINTMENT_STATUSES } from '@neonpro/contracts';
import { patientSchema, procedureSchema } from './clinic-data.schema.js';

/**
 * What every tool returns to the model, in one place: the tools build their output through these
 * schemas, and the local model reads tool messages with them (no re-declared view types).
 */
export const appointmentViewSchema = z.object({
  id: z.guid(),
  patient_id: z.guid(),
  patient_name: z.string(),
  professional_id: z.guid(),
  professional_name: z.string(),
  /** Local date and times in the clinic's zone. */
  date: z.string(),
  start: z.string(),
  end: z.string(),
  procedure: z.string(),
  status: z.enum(APPOINTMENT_STATUSES),
});
export type AppointmentView = z.infer<typeof appointmentViewSchema>;

/** A failure the model should explain (never an exception's message). */
export const toolErrorSchema = z.object({
  error: z.enum([
    'professional_not_found',
    'patient_not_found',
    'appointment_not_found',
    'missing_fields',
    'in_the_past',
    'invalid_range',
    'clinic_closed',
  ]),
  /** The clinic's professionals, when the one named was not found. */
  professionals: z.array(z.string()).optional(),
  required: z.array(z.string()).optional(),
});
export type ToolError = z.infer<typeof toolErrorSchema>;

export const searchPatientsOutputSchema = z.object({ patients: z.array(patientSchema) });

export const patientSummaryOutputSchema = z.union([
  z.object({
    found: z.literal(true),
    patient: patientSchema,
    upcoming: z.array(appointmentViewSchema),
    recent: z.array(appointmentViewSchema),
  }),
  z.object({ found: z.literal(false) }),
]);

export const listAppointmentsOutputSchema = z.union([
  z.object({
    date_from: z.string(),
    date_to: z.string(),
    professional: z.string().optional(),
    appointments: z.array(appointmentViewSchema),
    /** True when more appointments matched than were returned. */
    truncated: z.boolean(),
  }),
  toolErrorSchema,
]);

export const freeSlotsOutputSchema = z.union([
  z.object({
    professional: z.object({ id: z.guid(), full_name: z.string() }),
    date: z.string(),
    duration_minutes: z.number(),
    slots: z.array(z.object({ start: z.string(), end: z.string() })),
  }),
  toolErrorSchema,
]);

/** Step 1 of every write: nothing was written; the user must confirm this proposal. */
export const proposalOutputSchema = z.object({
  status: z.literal('confirmation_required'),
  proposal_id: z.string(),
  action: z.enum(['book', 'cancel', 'reschedule']),
  /** Server-rendered: exactly what will be written. */
  summary: z.string(),
  expires_at: z.string(),
  instruction: z.string(),
});
export type ProposalOutput = z.infer<typeof proposalOutputSchema>;

/** Step 2 refused: not confirmed, another proposal, or expired. */
export const refusedOutputSchema = z.object({
  status: z.literal('refused'),
  reason: z.enum(['no_pending_proposal', 'unknown_proposal', 'proposal_expired', 'confirmation_required']),
});

export const writeOutputSchema = z.union([
  proposalOutputSchema,
  refusedOutputSchema,
  z.object({ status: z.enum(['booked', 'cancelled', 'rescheduled']), appointment: appointmentViewSchema }),
  z.object({
    status: z.enum(['already_cancelled', 'not_cancellable', 'not_reschedulable']),
    appointment: appointmentViewSchema,
  }),
  z.object({ status: z.literal('conflict'), conflicting: z.array(appointmentViewSchema) }),
  z.object({ status: z.literal('not_found') }),
  toolErrorSchema,
]);
export type WriteOutput = z.infer<typeof writeOutputSchema>;

export const openingHoursViewSchema = z.array(z.object({ days: z.string(), open: z.string(), close: z.string() }));

export const clinicInfoOutputSchema = z.object({
  name: z.string(),
  timezone: z.string(),
  today: z.string(),
  phone: z.string().nullable(),
  address: z.string().nullable(),
  /** E.g. `[{days: "mon-fri", open: "08:00", close: "18:00"}]`. */
  opening_hours: openingHoursViewSchema,
  procedures: z.array(procedureSchema),
  professionals: z.array(z.object({ id: z.guid(), full_name: z.string(), specialty: z.string().nullable() })),
});
export type ClinicInfoOutput = z.infer<typeof clinicInfoOutputSchema>;

export const TOOL_OUTPUT_SCHEMAS = {
  search_patients: searchPatientsOutputSchema,
  get_patient_summary: patientSummaryOutputSchema,
  list_appointments: listAppointmentsOutputSchema,
  find_free_slots: freeSlotsOutputSchema,
  book_appointment: writeOutputSchema,
  cancel_appointment: writeOutputSchema,
  reschedule_appointment: writeOutputSchema,
  clinic_info: clinicInfoOutputSchema,
} as const;
export type ToolName = keyof typeof TOOL_OUTPUT_SCHEMAS;
export const TOOL_NAMES = Object.keys(TOOL_OUTPUT_SCHEMAS) as ToolName[];
export type ToolOutput<N extends ToolName> = z.infer<(typeof TOOL_OUTPUT_SCHEMAS)[N]>;

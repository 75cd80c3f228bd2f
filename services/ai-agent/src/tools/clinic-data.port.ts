import type { AgentCallerClaims, AppointmentStatus } from '@neonpro/contracts';
import type {
  Appointment,
  BookResult,
  CancelResult,
  ClinicInfo,
  FreeSlot,
  Patient,
  PatientSummary,
  RescheduleResult,
} from './clinic-data.schema.js';

export const CLINIC_DATA_PORT = Symbol('CLINIC_DATA_PORT');

/**
 * What the agent's tools need from the clinic's data. Every method runs AS the caller: the
 * Postgres adapter executes it inside `withUser(caller.raw, …)` so RLS confines it to the
 * caller's clinic (another clinic's rows simply do not exist: empty results / null / not_found,
 * never an error that reveals them) and writes the audit rows for patient data.
 */
/** Appointments starting in [from, to), optionally of one patient, professional or status. */
export interface ListAppointmentsParams {
  from: string;
  to: string;
  patientId?: string;
  professionalId?: string;
  status?: AppointmentStatus;
  limit: number;
}

export interface BookAppointmentParams {
  patientId: string;
  professionalId: string;
  startsAt: string;
  endsAt: string;
  procedure: string;
  idempotencyKey: string;
}

export interface ClinicDataPort {
  /** By name (accent- and case-insensitive), CPF or phone (digits, with or without punctuation). */
  searchPatients(caller: AgentCallerClaims, params: { query: string; limit: number }): Promise<Patient[]>;
  /** Null when the patient does not exist for the caller. */
  getPatientSummary(caller: AgentCallerClaims, patientId: string): Promise<PatientSummary | null>;
  /** Null when the appointment does not exist for the caller. */
  getAppointment(caller: AgentCallerClaims, appointmentId: string): Promise<Appointment | null>;
  /** Appointments starting in [from, to), ordered by start. */
  listAppointments(caller: AgentCallerClaims, params: ListAppointmentsParams): Promise<Appointment[]>;
  /** Free slots of `durationMinutes` on a local date (YYYY-MM-DD in the clinic's zone) within opening hours. */
  findFreeSlots(
    caller: AgentCallerClaims,
    params: { professionalId: string; date: string; durationMinutes: number },
  ): Promise<FreeSlot[]>;
  /**
   * Books, or returns the appointment already booked under the same `idempotencyKey` (so a
   * retried run never double-books). Conflict when the slot overlaps the professional's agenda.
   */
  bookAppointment(caller: AgentCallerClaims, params: BookAppointmentParams): Promise<BookResult>;
  /** Idempotent: cancelling an already cancelled appointment (same key or not) returns it as cancelled. */
  cancelAppointment(
    caller: AgentCallerClaims,
    params: { appointmentId: string; idempotencyKey: string },
  ): Promise<CancelResult>;
  /**
   * Moves an appointment (same professional) to a new time. Idempotent: an appointment already
   * at that time is returned as rescheduled. Conflict when the new time overlaps another one.
   */
  rescheduleAppointment(
    caller: AgentCallerClaims,
    params: { appointmentId: string; startsAt: string; endsAt: string; idempotencyKey: string },
  ): Promise<RescheduleResult>;
  clinicInfo(caller: AgentCallerClaims): Promise<ClinicInfo>;
}

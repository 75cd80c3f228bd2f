import type { AgentCallerClaims } from '@neonpro/contracts';
import {
  type Appointment as AppointmentRow,
  AppointmentConflictError,
  ConflictError,
  type Database,
  NotFoundError,
  type Patient as PatientRow,
} from '@neonpro/database';
import type { BookAppointmentParams, ClinicDataPort, ListAppointmentsParams } from '../tools/clinic-data.port.js';
import {
  type Appointment,
  appointmentSchema,
  type BookResult,
  type CancelResult,
  type ClinicInfo,
  type FreeSlot,
  type Patient,
  patientSchema,
  type PatientSummary,
  type RescheduleResult,
} from '../tools/clinic-data.schema.js';
import type { z } from 'zod';
import { asCaller, asCallerStatement } from './caller-database.js';
import { openingWindow } from './opening-hours.js';

const SUMMARY_APPOINTMENTS = 5;
/** How far back "recent" appointments of a patient summary look. */
const RECENT_DAYS = 365;

/**
 * The fields of a row that a tool schema declares, and no others: the schema is the one list of
 * what the tools (and so the model) see of a row; the rest (clinical notes, timestamps, keys) stays here.
 */
function projection<S extends z.ZodObject>(schema: S): <R extends z.infer<S>>(row: R) => z.infer<S> {
  const keys = Object.keys(schema.shape) as (keyof z.infer<S>)[];
  return (row) => {
    const out = {} as z.infer<S>;
    for (const k of keys) {
      out[k] = row[k];
    }
    return out;
  };
}

const patient: (p: PatientRow) => Patient = projection(patientSchema);
const appointment: (a: AppointmentRow) => Appointment = projection(appointmentSchema);

async function orNull<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (err) {
    // Missing and another clinic's are the same thing under RLS: nothing to show.
    if (err instanceof NotFoundError) {
      return null;
    }
    throw err;
  }
}

/**
 * The agent's tools over `@neonpro/database`: each call is one transaction as the caller (RLS),
 * and the repositories write the same audit rows an API access writes.
 */
export class PostgresClinicData implements ClinicDataPort {
  constructor(private readonly db: Database) {}

  searchPatients(caller: AgentCallerClaims, params: { query: string; limit: number }): Promise<Patient[]> {
    return asCaller(this.db, caller, async (r) => {
      const page = await r.patients.search({ search: params.query, limit: params.limit });
      return page.data.map(patient);
    });
  }

  getPatientSummary(caller: AgentCallerClaims, patientId: string): Promise<PatientSummary | null> {
    return asCaller(this.db, caller, async (r) => {
      const found = await orNull(r.patients.get(patientId));
      if (!found) {
        return null;
      }
      const now = new Date();
      // Both lists at once: the connection pipelines them, so the two reads (and then their two
      // audit rows) share round trips instead of taking four in a row.
      const [upcoming, past] = await Promise.all([
        r.appointments.list({
          patient_id: patientId,
          from: now.toISOString(),
          limit: SUMMARY_APPOINTMENTS,
        }),
        r.appointments.list({
          patient_id: patientId,
          from: new Date(now.getTime() - RECENT_DAYS * 86_400_000).toISOString(),
          to: now.toISOString(),
          limit: 200,
        }),
      ]);
      return {
        patient: patient(found),
        upcoming: upcoming.data.map(appointment),
        recent: past.data.slice(-SUMMARY_APPOINTMENTS).reverse().map(appointment),
      };
    });
  }

  /** One statement (the row and its audit row): answered in one round trip with its transaction. */
  getAppointment(caller: AgentCallerClaims, appointmentId: string): Promise<Appointment | null> {
    return asCallerStatement(this.db, caller, async (r) => {
      const a = await orNull(r.appointments.get(appointmentId));
      return a && appointment(a);
    });
  }

  listAppointments(caller: AgentCallerClaims, params: ListAppointmentsParams): Promise<Appointment[]> {
    return asCaller(this.db, caller, async (r) => {
      const page = await r.appointments.list({
        from: params.from,
        to: params.to,
        patient_id: params.patientId,
        professional_id: params.professionalId,
        status: params.status,
        limit: params.limit,
      });
      return page.data.map(appointment);
    });
  }

  findFreeSlots(
    caller: AgentCallerClaims,
    params: { professionalId: string; date: string; durationMinutes: number },
  ): Promise<FreeSlot[]> {
    return asCaller(this.db, caller, async (r) => {
      const window = openingWindow((await r.clinics.current()).opening_hours, params.date);
      if (!window) {
        return [];
      }
      const slots = await orNull(
        r.appointments.freeSlots({
          professional_id: params.professionalId,
          date: params.date,
          slot_minutes: params.durationMinutes,
          day_start: window.start,
          day_end: window.end,
        }),
      );
      return slots ?? [];
    });
  }

  async bookAppointment(caller: AgentCallerClaims, params: BookAppointmentParams): Promise<BookResult> {
    try {
      return await asCaller(this.db, caller, async (r) => {
        const { appointment: booked } = await r.appointments.book({
          patient_id: params.patientId,
          professional_id: params.professionalId,
          starts_at: params.startsAt,
          ends_at: params.endsAt,
          procedure: params.procedure,
          idempotency_key: params.idempotencyKey,
        });
        return { status: 'booked' as const, appointment: appointment(booked) };
      });
    } catch (err) {
      const raced = err instanceof ConflictError && err.code === 'idempotency_conflict';
      if (!(err instanceof AppointmentConflictError) && !raced) {
        throw err;
      }
    }
    // The failed insert aborted that transaction: look again in a new one. A concurrent retry of
    // the same run may have booked it first (same key): that is this booking, not a conflict.
    return asCaller(this.db, caller, async (r) => {
      const mine = await r.appointments.byIdempotencyKey(params.idempotencyKey);
      if (mine) {
        return { status: 'booked' as const, appointment: appointment(mine) };
      }
      const start = new Date(params.startsAt).getTime();
      const end = new Date(params.endsAt).getTime();
      const around = await r.appointments.list({
        professional_id: params.professionalId,
        from: new Date(start - 86_400_000).toISOString(),
        to: params.endsAt,
        limit: 200,
      });
      const conflicting = around.data.filter(
        (a) =>
          a.status !== 'cancelled' && new Date(a.starts_at).getTime() < end && new Date(a.ends_at).getTime() > start,
      );
      return { status: 'conflict' as const, conflicting: conflicting.map(appointment) };
    });
  }

  cancelAppointment(
    caller: AgentCallerClaims,
    params: { appointmentId: string; idempotencyKey: string },
  ): Promise<CancelResult> {
    // Cancelling is naturally idempotent (a status), so the key only labels the attempt.
    return asCaller(this.db, caller, async (r) => {
      const current = await orNull(r.appointments.get(params.appointmentId));
      if (!current) {
        return { status: 'not_found' as const };
      }
      if (current.status === 'cancelled') {
        return { status: 'cancelled' as const, appointment: appointment(current) };
      }
      if (current.status === 'completed' || current.status === 'no_show') {
        return { status: 'not_cancellable' as const, appointment: appointment(current) };
      }
      return { status: 'cancelled' as const, appointment: appointment(await r.appointments.cancel(current.id)) };
    });
  }

  async rescheduleAppointment(
    caller: AgentCallerClaims,
    params: { appointmentId: string; startsAt: string; endsAt: string; idempotencyKey: string },
  ): Promise<RescheduleResult> {
    const sameInstant = (a: string, b: string) => new Date(a).getTime() === new Date(b).getTime();
    try {
      return await asCaller(this.db, caller, async (r): Promise<RescheduleResult> => {
        const current = await orNull(r.appointments.get(params.appointmentId));
        if (!current) {
          return { status: 'not_found' };
        }
        // A retried confirmation finds the appointment already moved: that is this rescheduling.
        if (sameInstant(current.starts_at, params.startsAt) && sameInstant(current.ends_at, params.endsAt)) {
          return { status: 'rescheduled', appointment: appointment(current) };
        }
        if (current.status !== 'scheduled' && current.status !== 'confirmed') {
          return { status: 'not_reschedulable', appointment: appointment(current) };
        }
        const moved = await r.appointments.update(current.id, { starts_at: params.startsAt, ends_at: params.endsAt });
        return { status: 'rescheduled', appointment: appointment(moved) };
      });
    } catch (err) {
      if (!(err instanceof AppointmentConflictError)) {
        throw err;
      }
    }
    // The exclusion constraint refused the new time: report what occupies it.
    return asCaller(this.db, caller, async (r) => {
      const current = await orNull(r.appointments.get(params.appointmentId));
      const start = new Date(params.startsAt).getTime();
      const end = new Date(params.endsAt).getTime();
      const around = current
        ? await r.appointments.list({
            professional_id: current.professional_id,
            from: new Date(start - 86_400_000).toISOString(),
            to: params.endsAt,
            limit: 200,
          })
        : { data: [] };
      const conflicting = around.data.filter(
        (a) =>
          a.id !== params.appointmentId &&
          a.status !== 'cancelled' &&
          new Date(a.starts_at).getTime() < end &&
          new Date(a.ends_at).getTime() > start,
      );
      return { status: 'conflict' as const, conflicting: conflicting.map(appointment) };
    });
  }

  clinicInfo(caller: AgentCallerClaims): Promise<ClinicInfo> {
    return asCaller(this.db, caller, async (r) => {
      const clinic = await r.clinics.current();
      const professionals = await r.professionals.list();
      return {
        name: clinic.name,
        timezone: clinic.timezone,
        phone: clinic.phone,
        address: clinic.address,
        opening_hours: clinic.opening_hours,
        procedures: clinic.procedures,
        professionals: professionals.map((p) => ({
          id: p.id,
          full_name: p.full_name,
          specialty: p.specialty,
          user_id: p.user_id,
        })),
      };
    });
  }
}

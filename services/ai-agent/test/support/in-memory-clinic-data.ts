// Test-only in-memory ClinicDataPort. It enforces clinic isolation the way Postgres RLS does
// (rows of another clinic are invisible: empty, null or not_found), so the tools' isolation
// logic is exercised before the real adapter exists. Erasable TypeScript only: the E2E harness
// loads it with Node's type stripping.
import { randomUUID } from 'node:crypto';
import type { AgentCallerClaims } from '@neonpro/contracts';
import type {
  BookAppointmentParams,
  ClinicDataPort,
  ListAppointmentsParams,
} from '../../src/tools/clinic-data.port.js';
// The port's row and result types, by namespace (this double implements ClinicDataPort).
import type * as Schema from '../../src/tools/clinic-data.schema.js';

export interface SeedClinic {
  id: string;
  name: string;
  timezone: string;
  professionals: { id: string; full_name: string; specialty: string | null }[];
  patients: Schema.Patient[];
  appointments: Omit<Schema.Appointment, 'patient_name' | 'professional_name'>[];
}

// Loaded by Node type stripping (no path aliases), so @neonpro/text cannot be imported here.
function fold(s: string): string {
  return s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

export class InMemoryClinicData implements ClinicDataPort {
  readonly clinics: Map<string, SeedClinic>;
  readonly bookings = new Map<string, string>();
  readonly audit: { clinic_id: string; user_id: string; action: string; patient_id?: string }[] = [];
  /** Calls per method, to assert what the tools actually did. */
  readonly calls: string[] = [];

  constructor(clinics: SeedClinic[]) {
    this.clinics = new Map(clinics.map((c) => [c.id, c]));
  }

  private clinic(caller: AgentCallerClaims): SeedClinic {
    return (
      this.clinics.get(caller.clinic_id) ?? {
        id: caller.clinic_id,
        name: '',
        timezone: 'America/Sao_Paulo',
        professionals: [],
        patients: [],
        appointments: [],
      }
    );
  }

  /** Records a call about one appointment; the caller's clinic and that appointment (if it is there). */
  private appointmentCall(
    caller: AgentCallerClaims,
    method: string,
    appointmentId: string,
  ): [SeedClinic, SeedClinic['appointments'][number] | undefined] {
    this.calls.push(method);
    const c = this.clinic(caller);
    return [c, c.appointments.find((x) => x.id === appointmentId)];
  }

  /** The professional's live appointments overlapping [startsAt, endsAt), but `except` (the one being moved). */
  private overlapping(
    c: SeedClinic,
    professionalId: string,
    startsAt: string,
    endsAt: string,
    except?: string,
  ): Schema.Appointment[] {
    const s = new Date(startsAt).getTime();
    const e = new Date(endsAt).getTime();
    return c.appointments
      .filter(
        (x) =>
          x.id !== except &&
          x.professional_id === professionalId &&
          x.status !== 'cancelled' &&
          new Date(x.starts_at).getTime() < e &&
          new Date(x.ends_at).getTime() > s,
      )
      .map((x) => this.view(c, x));
  }

  private view(c: SeedClinic, a: SeedClinic['appointments'][number]): Schema.Appointment {
    return {
      ...a,
      patient_name: c.patients.find((p) => p.id === a.patient_id)?.full_name ?? '?',
      professional_name: c.professionals.find((p) => p.id === a.professional_id)?.full_name ?? '?',
    };
  }

  private log(caller: AgentCallerClaims, action: string, patientId?: string): void {
    this.audit.push({ clinic_id: caller.clinic_id, user_id: caller.sub, action, patient_id: patientId });
  }

  searchPatients(caller: AgentCallerClaims, params: { query: string; limit: number }): Promise<Schema.Patient[]> {
    this.calls.push('searchPatients');
    const c = this.clinic(caller);
    const digits = params.query.replace(/\D/g, '');
    const words = fold(params.query).split(/\s+/).filter(Boolean);
    const found = c.patients.filter((p) => {
      if (digits.length === 11) {
        return (p.cpf ?? '').replace(/\D/g, '') === digits;
      }
      const names = fold(p.full_name).split(/\s+/);
      return words.every((w) => names.some((n) => n.startsWith(w)));
    });
    for (const p of found) {
      this.log(caller, 'patient.search', p.id);
    }
    return Promise.resolve(found.slice(0, params.limit));
  }

  getPatientSummary(caller: AgentCallerClaims, patientId: string): Promise<Schema.PatientSummary | null> {
    this.calls.push('getPatientSummary');
    const c = this.clinic(caller);
    const patient = c.patients.find((p) => p.id === patientId);
    if (!patient) {
      return Promise.resolve(null);
    }
    this.log(caller, 'patient.read', patientId);
    const now = Date.now();
    const mine = c.appointments.filter((a) => a.patient_id === patientId).map((a) => this.view(c, a));
    mine.sort((a, b) => a.starts_at.localeCompare(b.starts_at));
    return Promise.resolve({
      patient,
      upcoming: mine.filter((a) => new Date(a.starts_at).getTime() >= now && a.status !== 'cancelled'),
      recent: mine.filter((a) => new Date(a.starts_at).getTime() < now).slice(-5),
    });
  }

  getAppointment(caller: AgentCallerClaims, appointmentId: string): Promise<Schema.Appointment | null> {
    const [c, a] = this.appointmentCall(caller, 'getAppointment', appointmentId);
    if (a) {
      this.log(caller, 'appointment.read', a.patient_id);
    }
    return Promise.resolve(a ? this.view(c, a) : null);
  }

  listAppointments(caller: AgentCallerClaims, params: ListAppointmentsParams): Promise<Schema.Appointment[]> {
    this.calls.push('listAppointments');
    const c = this.clinic(caller);
    const from = new Date(params.from).getTime();
    const to = new Date(params.to).getTime();
    const list = c.appointments
      .filter((a) => {
        const t = new Date(a.starts_at).getTime();
        return (
          t >= from &&
          t < to &&
          (!params.patientId || a.patient_id === params.patientId) &&
          (!params.professionalId || a.professional_id === params.professionalId) &&
          (!params.status || a.status === params.status)
        );
      })
      .map((a) => this.view(c, a));
    list.sort((a, b) => a.starts_at.localeCompare(b.starts_at));
    for (const a of list) {
      this.log(caller, 'appointment.list', a.patient_id);
    }
    return Promise.resolve(list.slice(0, params.limit));
  }

  findFreeSlots(
    caller: AgentCallerClaims,
    params: { professionalId: string; date: string; durationMinutes: number },
  ): Promise<Schema.FreeSlot[]> {
    this.calls.push('findFreeSlots');
    const c = this.clinic(caller);
    if (!c.professionals.some((p) => p.id === params.professionalId)) {
      return Promise.resolve([]);
    }
    const busy = c.appointments
      .filter((a) => a.professional_id === params.professionalId && a.status !== 'cancelled')
      .map((a) => [new Date(a.starts_at).getTime(), new Date(a.ends_at).getTime()] as const);
    const slots: Schema.FreeSlot[] = [];
    // Opening hours 09:00–18:00 São Paulo (UTC-3).
    for (let m = 9 * 60; m + params.durationMinutes <= 18 * 60; m += params.durationMinutes) {
      const start = new Date(
        `${params.date}T${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}:00-03:00`,
      );
      const end = new Date(start.getTime() + params.durationMinutes * 60000);
      if (busy.some(([s, e]) => s < end.getTime() && e > start.getTime())) {
        continue;
      }
      slots.push({ starts_at: start.toISOString(), ends_at: end.toISOString() });
    }
    return Promise.resolve(slots);
  }

  bookAppointment(caller: AgentCallerClaims, params: BookAppointmentParams): Promise<Schema.BookResult> {
    this.calls.push('bookAppointment');
    const c = this.clinic(caller);
    const key = `${caller.clinic_id}:${params.idempotencyKey}`;
    const existing = this.bookings.get(key);
    const previous = existing ? c.appointments.find((a) => a.id === existing) : undefined;
    if (previous) {
      return Promise.resolve({ status: 'booked', appointment: this.view(c, previous) });
    }
    if (
      !c.patients.some((p) => p.id === params.patientId) ||
      !c.professionals.some((p) => p.id === params.professionalId)
    ) {
      return Promise.resolve({ status: 'conflict', conflicting: [] });
    }
    const conflicting = this.overlapping(c, params.professionalId, params.startsAt, params.endsAt);
    if (conflicting.length) {
      return Promise.resolve({ status: 'conflict', conflicting });
    }
    const appointment = {
      id: randomUUID(),
      patient_id: params.patientId,
      professional_id: params.professionalId,
      starts_at: params.startsAt,
      ends_at: params.endsAt,
      procedure: params.procedure,
      status: 'scheduled' as const,
    };
    c.appointments.push(appointment);
    this.bookings.set(key, appointment.id);
    this.log(caller, 'appointment.create', params.patientId);
    return Promise.resolve({ status: 'booked', appointment: this.view(c, appointment) });
  }

  cancelAppointment(
    caller: AgentCallerClaims,
    params: { appointmentId: string; idempotencyKey: string },
  ): Promise<Schema.CancelResult> {
    const [c, a] = this.appointmentCall(caller, 'cancelAppointment', params.appointmentId);
    if (!a) {
      return Promise.resolve({ status: 'not_found' });
    }
    if (a.status === 'completed' || a.status === 'no_show') {
      return Promise.resolve({ status: 'not_cancellable', appointment: this.view(c, a) });
    }
    a.status = 'cancelled';
    this.log(caller, 'appointment.cancel', a.patient_id);
    return Promise.resolve({ status: 'cancelled', appointment: this.view(c, a) });
  }

  rescheduleAppointment(
    caller: AgentCallerClaims,
    params: { appointmentId: string; startsAt: string; endsAt: string; idempotencyKey: string },
  ): Promise<Schema.RescheduleResult> {
    const [c, a] = this.appointmentCall(caller, 'rescheduleAppointment', params.appointmentId);
    if (!a) {
      return Promise.resolve({ status: 'not_found' });
    }
    if (a.starts_at === params.startsAt) {
      return Promise.resolve({ status: 'rescheduled', appointment: this.view(c, a) });
    }
    if (a.status !== 'scheduled' && a.status !== 'confirmed') {
      return Promise.resolve({ status: 'not_reschedulable', appointment: this.view(c, a) });
    }
    const conflicting = this.overlapping(c, a.professional_id, params.startsAt, params.endsAt, a.id);
    if (conflicting.length) {
      return Promise.resolve({ status: 'conflict', conflicting });
    }
    a.starts_at = params.startsAt;
    a.ends_at = params.endsAt;
    this.log(caller, 'appointment.update', a.patient_id);
    return Promise.resolve({ status: 'rescheduled', appointment: this.view(c, a) });
  }

  clinicInfo(caller: AgentCallerClaims): Promise<Schema.ClinicInfo> {
    this.calls.push('clinicInfo');
    const c = this.clinic(caller);
    return Promise.resolve({ name: c.name, timezone: c.timezone, professionals: c.professionals });
  }
}

import type { AppointmentStatus } from '@neonpro/contracts';
import { ConflictError, NotFoundError, pgCode, pgConstraint } from '../errors.js';
import { decodeCursor, type Page, toPage } from '../pagination.js';
import type { AuditRepository } from './audit.repository.js';
import { clampLimit, type Statement, type TxContext } from './context.js';

export interface Appointment {
  id: string;
  clinic_id: string;
  patient_id: string;
  patient_name: string;
  professional_id: string;
  professional_name: string;
  starts_at: string;
  ends_at: string;
  procedure: string;
  status: AppointmentStatus;
  notes: string | null;
  idempotency_key: string | null;
  created_at: string;
  updated_at: string;
}

export interface AppointmentQuery {
  from?: string;
  to?: string;
  patient_id?: string;
  professional_id?: string;
  status?: AppointmentStatus;
  limit?: number;
  cursor?: string;
}

export interface BookInput {
  patient_id: string;
  professional_id: string;
  starts_at: string;
  ends_at: string;
  procedure: string;
  notes?: string | null;
  status?: 'scheduled' | 'confirmed';
  /** Same key → same appointment, so a retried booking never books twice. */
  idempotency_key?: string | null;
}

export interface AppointmentPatch {
  status?: AppointmentStatus;
  starts_at?: string;
  ends_at?: string;
  procedure?: string;
  notes?: string | null;
  professional_id?: string;
}

export interface FreeSlotQuery {
  professional_id: string;
  /** Local date (YYYY-MM-DD) in the clinic's time zone. */
  date: string;
  slot_minutes?: number;
  day_start?: string;
  day_end?: string;
}

const COLUMNS = `a.id, a.clinic_id, a.patient_id, p.full_name as patient_name, a.professional_id,
  pr.full_name as professional_name, a.starts_at, a.ends_at, a.procedure, a.status, a.notes, a.idempotency_key,
  a.created_at, a.updated_at`;
const FROM = `public.appointments a
  join public.patients p on p.id = a.patient_id
  join public.professionals pr on pr.id = a.professional_id`;
const SELECT = `select ${COLUMNS} from ${FROM}`;

/**
 * `get` in one statement: the row and its audit row, `app.audit` in the target list so it runs once
 * per row returned (an appointment the caller cannot see is neither returned nor audited).
 */
const APPOINTMENT_READ: Statement = {
  name: 'appointment_read',
  text: `select ${COLUMNS},
    app.audit('appointment.read', 'appointment', a.id, jsonb_build_object('patient_id', a.patient_id)) as audited
    from ${FROM} where a.id = $1`,
};

export class AppointmentConflictError extends ConflictError {
  constructor() {
    super('appointment_conflict', 'the professional already has an appointment overlapping this time');
  }
}

/** Appointments of the caller's clinic. Reading or writing them is patient-data access: audited. */
export class AppointmentsRepository {
  constructor(
    private readonly ctx: TxContext,
    private readonly audit: AuditRepository,
  ) {}

  async list(q: AppointmentQuery): Promise<Page<Appointment>> {
    const limit = clampLimit(q.limit, 50, 200);
    const cursor = decodeCursor(q.cursor);
    const rows = await this.ctx.rows<Appointment>(
      `${SELECT}
        where ($1::timestamptz is null or a.starts_at >= $1) and ($2::timestamptz is null or a.starts_at < $2)
          and ($3::uuid is null or a.patient_id = $3) and ($4::uuid is null or a.professional_id = $4)
          and ($5::text is null or a.status = $5)
          and ($6::timestamptz is null or (a.starts_at, a.id) > ($6::timestamptz, $7::uuid))
        order by a.starts_at, a.id limit $8`,
      [
        q.from ?? null,
        q.to ?? null,
        q.patient_id ?? null,
        q.professional_id ?? null,
        q.status ?? null,
        cursor?.k ?? null,
        cursor?.id ?? null,
        limit + 1,
      ],
    );
    const page = toPage(rows, limit, (r) => ({ k: r.starts_at, id: r.id }));
    await this.audit.record('appointment.list', 'appointment', null, {
      result_count: page.data.length,
      ...(q.patient_id ? { patient_id: q.patient_id } : {}),
      patient_ids: [...new Set(page.data.map((a) => a.patient_id))],
    });
    return page;
  }

  private async find(id: string): Promise<Appointment> {
    const row = await this.ctx.one<Appointment>(`${SELECT} where a.id = $1`, [id]);
    if (!row) {
      throw new NotFoundError('appointment');
    }
    return row;
  }

  /**
   * The appointment, audited as `appointment.read` (with its patient). One statement, sent before the
   * first await: it can run as `Database.withUserStatement`.
   */
  async get(id: string): Promise<Appointment> {
    const row = await this.ctx.preparedOne<Appointment & { audited: unknown }>(APPOINTMENT_READ, [id]);
    if (!row) {
      throw new NotFoundError('appointment');
    }
    const { audited: _audited, ...appointment } = row;
    return appointment;
  }

  /** The appointment booked under this idempotency key, if any (audited as a read). */
  async byIdempotencyKey(key: string): Promise<Appointment | undefined> {
    const row = await this.ctx.one<Appointment>(`${SELECT} where a.idempotency_key = $1`, [key]);
    if (row) {
      await this.audit.record('appointment.read', 'appointment', row.id, { patient_id: row.patient_id });
    }
    return row;
  }

  /** Idempotent by key; an overlap for the professional is an AppointmentConflictError. */
  async book(input: BookInput): Promise<{ appointment: Appointment; created: boolean }> {
    if (input.idempotency_key) {
      const existing = await this.ctx.one<{ id: string }>(
        'select id from public.appointments where idempotency_key = $1',
        [input.idempotency_key],
      );
      if (existing) {
        return { appointment: await this.get(existing.id), created: false };
      }
    }
    const refs = await this.ctx.one<{ patient: boolean; professional: boolean }>(
      `select exists(select 1 from public.patients where id = $1 and anonymized_at is null) as patient,
              exists(select 1 from public.professionals where id = $2 and active) as professional`,
      [input.patient_id, input.professional_id],
    );
    if (!refs?.patient) {
      throw new NotFoundError('patient');
    }
    if (!refs.professional) {
      throw new NotFoundError('professional');
    }
    let id: string;
    try {
      const row = await this.ctx.one<{ id: string }>(
        `insert into public.appointments
           (clinic_id, patient_id, professional_id, starts_at, ends_at, procedure, notes, status, idempotency_key)
         values (app.current_clinic_id(), $1, $2, $3, $4, $5, $6, $7, $8) returning id`,
        [
          input.patient_id,
          input.professional_id,
          input.starts_at,
          input.ends_at,
          input.procedure,
          input.notes ?? null,
          input.status ?? 'scheduled',
          input.idempotency_key ?? null,
        ],
      );
      id = row!.id;
    } catch (err) {
      throw mapWriteError(err);
    }
    await this.audit.record('appointment.create', 'appointment', id, { patient_id: input.patient_id });
    return { appointment: await this.find(id), created: true };
  }

  /** Status changes and rescheduling. */
  async update(id: string, patch: AppointmentPatch): Promise<Appointment> {
    const current = await this.find(id);
    if (patch.professional_id) {
      const ok = await this.ctx.one('select 1 from public.professionals where id = $1 and active', [
        patch.professional_id,
      ]);
      if (!ok) {
        throw new NotFoundError('professional');
      }
    }
    try {
      await this.ctx.db.query(
        `update public.appointments set status = coalesce($2, status), starts_at = coalesce($3, starts_at),
           ends_at = coalesce($4, ends_at), procedure = coalesce($5, procedure),
           notes = case when $6 then $7 else notes end, professional_id = coalesce($8, professional_id)
         where id = $1`,
        [
          id,
          patch.status ?? null,
          patch.starts_at ?? null,
          patch.ends_at ?? null,
          patch.procedure ?? null,
          patch.notes !== undefined,
          patch.notes ?? null,
          patch.professional_id ?? null,
        ],
      );
    } catch (err) {
      throw mapWriteError(err);
    }
    await this.audit.record('appointment.update', 'appointment', id, {
      patient_id: current.patient_id,
      fields: Object.keys(patch),
      ...(patch.status ? { status: patch.status } : {}),
    });
    return this.find(id);
  }

  cancel(id: string): Promise<Appointment> {
    return this.update(id, { status: 'cancelled' });
  }

  /** Free start times for a professional on a local date, in the clinic's time zone. */
  async freeSlots(q: FreeSlotQuery): Promise<{ starts_at: string; ends_at: string }[]> {
    const pro = await this.ctx.one('select 1 from public.professionals where id = $1 and active', [q.professional_id]);
    if (!pro) {
      throw new NotFoundError('professional');
    }
    // The day's busy intervals come from app.busy_intervals (the no-double-booking GiST index;
    // see its migration), so the cost is one day's appointments, not the professional's history.
    return this.ctx.rows(
      `with c as (select timezone from public.clinics where id = app.current_clinic_id()),
       day as (select ($2::date + $4::time) at time zone c.timezone as day_start,
                      ($2::date + $5::time) at time zone c.timezone as day_end from c),
       busy as (select b.starts_at, b.ends_at from day, app.busy_intervals($1, day.day_start, day.day_end) b),
       slots as (
         select s as starts_at, s + make_interval(mins => $3) as ends_at
           from day, generate_series(day.day_start, day.day_end - make_interval(mins => $3), make_interval(mins => $3)) s)
       select starts_at, ends_at from slots
        where starts_at > now()
          and not exists (select 1 from busy
                           where tstzrange(busy.starts_at, busy.ends_at, '[)') && tstzrange(slots.starts_at, slots.ends_at, '[)'))
        order by starts_at`,
      [q.professional_id, q.date, q.slot_minutes ?? 30, q.day_start ?? '08:00', q.day_end ?? '18:00'],
    );
  }
}

function mapWriteError(err: unknown): unknown {
  const code = pgCode(err);
  if (code === '23P01') {
    return new AppointmentConflictError();
  }
  if (code === '23505' && pgConstraint(err)?.includes('idempotency')) {
    return new ConflictError('idempotency_conflict', 'this idempotency key was already used');
  }
  if (code === '23514') {
    return new ConflictError('invalid_appointment', 'the appointment must end after it starts');
  }
  return err;
}

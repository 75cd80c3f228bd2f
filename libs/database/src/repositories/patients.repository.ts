import { normalizeCpf } from '../cpf.js';
import { ConflictError, ForbiddenError, NotFoundError, pgCode } from '../errors.js';
import { decodeCursor, type Page, toPage } from '../pagination.js';
import type { AuditRepository } from './audit.repository.js';
import { clampLimit, escapeLike, type Statement, type TxContext } from './context.js';

export interface Patient {
  id: string;
  clinic_id: string;
  full_name: string;
  cpf: string | null;
  birth_date: string | null;
  phone: string | null;
  email: string | null;
  /** Absent for receptionists. */
  clinical_notes?: string | null;
  anonymized_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface PatientInput {
  full_name: string;
  cpf: string;
  birth_date?: string | null;
  phone?: string | null;
  email?: string | null;
  clinical_notes?: string | null;
}

export type PatientPatch = Partial<PatientInput>;

export interface PatientSearch {
  search?: string;
  limit?: number;
  cursor?: string;
}

export interface PatientSummary {
  patient: Patient;
  upcoming_appointments: {
    id: string;
    starts_at: string;
    ends_at: string;
    procedure: string;
    status: string;
    professional_name: string;
  }[];
  last_appointment: { id: string; starts_at: string; procedure: string; status: string } | null;
  active_consents: { purpose: string; legal_basis: string; granted_at: string }[];
}

const COLUMNS = `p.id, p.clinic_id, p.full_name, p.cpf, p.birth_date, p.phone, p.email, p.clinical_notes,
  p.anonymized_at, p.created_at, p.updated_at`;

const PATIENT_BY_ID: Statement = {
  name: 'patient_by_id',
  text: `select ${COLUMNS} from public.patients p where p.id = $1`,
};

const ANONYMOUS_NAME = 'Paciente anonimizado';

/** Patients of the caller's clinic. Every access writes one audit row in the same transaction. */
export class PatientsRepository {
  constructor(
    private readonly ctx: TxContext,
    private readonly audit: AuditRepository,
  ) {}

  private async shape(rows: Patient[]): Promise<Patient[]> {
    // Receptionists never receive clinical notes, whichever path reads the patient.
    if ((await this.ctx.memberRole()) !== 'receptionist') {
      return rows;
    }
    return rows.map(({ clinical_notes: _omit, ...rest }) => rest);
  }

  /** By name (accent- and case-insensitive substring) or CPF (with or without punctuation). */
  async search(q: PatientSearch): Promise<Page<Patient>> {
    const limit = clampLimit(q.limit);
    const cursor = decodeCursor(q.cursor);
    const term = q.search?.trim() ?? '';
    const digits = normalizeCpf(term);
    // Digits only (with punctuation): a CPF prefix or, with 8+ digits, the end of a phone number.
    const byCpf = term !== '' && /^[\d.\-\s()+]+$/.test(term) && digits.length >= 3;
    const name = term && !byCpf ? escapeLike(term) : null;
    const cpf = byCpf ? digits : null;
    const phoneDigits = byCpf && digits.length >= 8 ? digits.slice(-8) : null;
    // A search finds its page of ids through app.search_patient_ids (indexed: see its migration),
    // then reads those rows as the caller, through RLS; a plain listing walks the keyset index.
    const rows =
      name !== null || cpf !== null
        ? await this.ctx.rows<Patient>(
            `select ${COLUMNS} from public.patients p
              where p.id in (select app.search_patient_ids($1, $2, $3, $4, $5, $6)) and p.anonymized_at is null
              order by p.created_at, p.id`,
            [name, cpf, cursor?.k ?? null, cursor?.id ?? null, limit + 1, phoneDigits],
          )
        : await this.ctx.rows<Patient>(
            `select ${COLUMNS} from public.patients p
              where p.anonymized_at is null
                and ($1::timestamptz is null or (p.created_at, p.id) > ($1::timestamptz, $2::uuid))
              order by p.created_at, p.id limit $3`,
            [cursor?.k ?? null, cursor?.id ?? null, limit + 1],
          );
    const page = toPage(await this.shape(rows), limit, (r) => ({ k: r.created_at, id: r.id }));
    await this.audit.record('patient.search', 'patient', null, {
      by: term === '' ? 'list' : byCpf ? 'cpf' : 'name',
      result_count: page.data.length,
      patient_ids: page.data.map((p) => p.id),
    });
    return page;
  }

  private async find(id: string): Promise<Patient> {
    const row = await this.ctx.preparedOne<Patient>(PATIENT_BY_ID, [id]);
    if (!row) {
      throw new NotFoundError('patient');
    }
    return (await this.shape([row]))[0];
  }

  async get(id: string): Promise<Patient> {
    const p = await this.find(id);
    await this.audit.record('patient.read', 'patient', id);
    return p;
  }

  async create(input: PatientInput): Promise<Patient> {
    await this.guardNotes(input);
    try {
      const row = await this.ctx.one<{ id: string }>(
        `insert into public.patients (clinic_id, full_name, cpf, birth_date, phone, email, clinical_notes)
         values (app.current_clinic_id(), $1, $2, $3, $4, $5, $6) returning id`,
        [
          input.full_name,
          normalizeCpf(input.cpf),
          input.birth_date ?? null,
          input.phone ?? null,
          input.email ?? null,
          input.clinical_notes ?? null,
        ],
      );
      await this.audit.record('patient.create', 'patient', row!.id);
      return this.find(row!.id);
    } catch (err) {
      if (pgCode(err) === '23505') {
        throw new ConflictError('patient_exists', 'a patient with this CPF already exists');
      }
      throw err;
    }
  }

  async update(id: string, patch: PatientPatch): Promise<Patient> {
    await this.guardNotes(patch);
    const current = await this.find(id);
    if (current.anonymized_at) {
      throw new ConflictError('patient_anonymized', 'an erased patient cannot be changed');
    }
    const fields = Object.keys(patch).filter((k) => (patch as Record<string, unknown>)[k] !== undefined);
    const v = (k: keyof PatientPatch) => (patch[k] === undefined ? null : patch[k]);
    try {
      await this.ctx.db.query(
        `update public.patients set
           full_name = case when $2 then $3 else full_name end,
           cpf = case when $4 then $5 else cpf end,
           birth_date = case when $6 then $7::date else birth_date end,
           phone = case when $8 then $9 else phone end,
           email = case when $10 then $11 else email end,
           clinical_notes = case when $12 then $13 else clinical_notes end
         where id = $1`,
        [
          id,
          patch.full_name !== undefined,
          v('full_name'),
          patch.cpf !== undefined,
          patch.cpf ? normalizeCpf(patch.cpf) : null,
          patch.birth_date !== undefined,
          v('birth_date'),
          patch.phone !== undefined,
          v('phone'),
          patch.email !== undefined,
          v('email'),
          patch.clinical_notes !== undefined,
          v('clinical_notes'),
        ],
      );
    } catch (err) {
      if (pgCode(err) === '23505') {
        throw new ConflictError('patient_exists', 'a patient with this CPF already exists');
      }
      throw err;
    }
    await this.audit.record('patient.update', 'patient', id, { fields });
    return this.find(id);
  }

  /** A compact view for the assistant: profile, next appointments, last visit, active consents. */
  async summary(id: string): Promise<PatientSummary> {
    const patient = await this.find(id);
    const upcoming = await this.ctx.rows<PatientSummary['upcoming_appointments'][number]>(
      `select a.id, a.starts_at, a.ends_at, a.procedure, a.status, pr.full_name as professional_name
         from public.appointments a join public.professionals pr on pr.id = a.professional_id
        where a.patient_id = $1 and a.starts_at >= now() and a.status in ('scheduled', 'confirmed')
        order by a.starts_at limit 5`,
      [id],
    );
    const last = await this.ctx.one<NonNullable<PatientSummary['last_appointment']>>(
      `select id, starts_at, procedure, status from public.appointments
        where patient_id = $1 and starts_at < now() order by starts_at desc limit 1`,
      [id],
    );
    const consents = await this.ctx.rows<PatientSummary['active_consents'][number]>(
      `select purpose, legal_basis, granted_at from public.consents
        where patient_id = $1 and revoked_at is null order by granted_at`,
      [id],
    );
    await this.audit.record('patient.summary', 'patient', id);
    return { patient, upcoming_appointments: upcoming, last_appointment: last ?? null, active_consents: consents };
  }

  /** LGPD art. 18: everything held about the patient, in one document. */
  async export(id: string): Promise<Record<string, unknown>> {
    if ((await this.ctx.memberRole()) !== 'admin') {
      throw new ForbiddenError('only admins export patient data');
    }
    const patient = await this.find(id);
    const appointments = await this.ctx.rows(
      `select a.id, a.professional_id, pr.full_name as professional_name, a.starts_at, a.ends_at, a.procedure,
              a.status, a.notes, a.created_at, a.updated_at
         from public.appointments a join public.professionals pr on pr.id = a.professional_id
        where a.patient_id = $1 order by a.starts_at`,
      [id],
    );
    const consents = await this.ctx.rows(
      `select id, purpose, legal_basis, granted_at, revoked_at, created_at from public.consents
        where patient_id = $1 order by granted_at`,
      [id],
    );
    await this.audit.record('patient.export', 'patient', id);
    const auditRows = await this.auditAbout(id);
    return {
      exported_at: new Date().toISOString(),
      patient,
      appointments,
      consents,
      audit: auditRows,
    };
  }

  private auditAbout(id: string) {
    return this.ctx.rows(
      `select id, actor_id, action, subject_type, subject_id, request_id, at, details from public.audit_log
        where subject_id = $1 or details->>'patient_id' = $1::text or details->'patient_ids' ? $1::text
        order by id`,
      [id],
    );
  }

  /**
   * LGPD erasure by anonymisation: personal fields replaced, appointments kept without identity,
   * chat mentions redacted. Idempotent: erasing again changes nothing but is still audited.
   */
  async erase(id: string): Promise<{ id: string; anonymized_at: string; already_erased: boolean }> {
    if ((await this.ctx.memberRole()) !== 'admin') {
      throw new ForbiddenError('only admins erase patient data');
    }
    const current = await this.find(id);
    if (current.anonymized_at) {
      await this.audit.record('patient.erase', 'patient', id, { already_erased: true });
      return { id, anonymized_at: current.anonymized_at, already_erased: true };
    }
    const redacted = await this.ctx.one<{ n: number }>('select app.redact_patient_mentions($1) as n', [id]);
    const row = await this.ctx.one<{ anonymized_at: string }>(
      `update public.patients set full_name = $2, cpf = null, birth_date = null, phone = null, email = null,
              clinical_notes = null, anonymized_at = now()
        where id = $1 returning anonymized_at`,
      [id, ANONYMOUS_NAME],
    );
    const appts = await this.ctx.rows(
      'update public.appointments set notes = null where patient_id = $1 returning id',
      [id],
    );
    await this.audit.record('patient.erase', 'patient', id, {
      appointments_retained: appts.length,
      chat_messages_redacted: redacted?.n ?? 0,
    });
    return { id, anonymized_at: row!.anonymized_at, already_erased: false };
  }

  private async guardNotes(input: { clinical_notes?: string | null }): Promise<void> {
    if (input.clinical_notes !== undefined && (await this.ctx.memberRole()) === 'receptionist') {
      throw new ForbiddenError('receptionists cannot write clinical notes');
    }
  }
}

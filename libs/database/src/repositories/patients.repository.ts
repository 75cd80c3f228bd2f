import { normalizeCpf } from '../cpf.js';
import { ConflictError, ForbiddenError, NotFoundError, pgCode } from '../errors.js';
import { decodeCursor, type Page, toPage } from '../pagination.js';
import { type AuditEntry, type AuditRepository, MODEL_DISCLOSURE_ACTION } from './audit.repository.js';
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

// Clinical notes live in their own table whose policy shows them to admins and professionals
// only: for a receptionist the join finds no row, whatever the query.
const PATIENT_COLUMNS = `p.id, p.clinic_id, p.full_name, p.cpf, p.birth_date, p.phone, p.email`;
const COLUMNS = `${PATIENT_COLUMNS}, n.notes as clinical_notes, p.anonymized_at, p.created_at, p.updated_at`;
const FROM = 'public.patients p left join public.patient_clinical_notes n on n.patient_id = p.id';

/**
 * One keyset page of patients matching `where`, then the notes of that page's rows only. Joined
 * before the limit, the notes were planned for the whole clinic: in a 100k clinic a scan of every
 * clinic's notes (with two policy functions per note) instead of 21 primary-key lookups.
 */
const pageWithNotes = (where: string, limit: string): string =>
  `select ${COLUMNS} from (
     select ${PATIENT_COLUMNS}, p.anonymized_at, p.created_at, p.updated_at from public.patients p
      where ${where} order by p.created_at, p.id limit ${limit}
   ) p left join public.patient_clinical_notes n on n.patient_id = p.id
   order by p.created_at, p.id`;

const PATIENT_BY_ID: Statement = {
  name: 'patient_by_id',
  text: `select ${COLUMNS} from ${FROM} where p.id = $1`,
};

/**
 * `get` in one statement: the row, the caller's role (receptionists never receive notes) and its
 * audit row. `app.audit` sits in the target list, so it runs once per row returned: a patient the
 * caller cannot see (RLS) or that does not exist is neither returned nor audited.
 */
const PATIENT_READ: Statement = {
  name: 'patient_read',
  text: `select ${COLUMNS}, app.current_member_role() as member_role,
                app.audit('patient.read', 'patient', p.id, '{}'::jsonb) as audited
           from ${FROM} where p.id = $1`,
};

const ANONYMOUS_NAME = 'Paciente anonimizado';

/** Receptionists never receive clinical notes, whichever path reads the patient. */
function shapeFor(role: string | null, patient: Patient): Patient {
  if (role !== 'receptionist') {
    return patient;
  }
  const { clinical_notes: _omit, ...rest } = patient;
  return rest;
}

/** Model providers that processed pseudonymised text about the patient, first and last time. */
function recipientsOf(
  rows: AuditEntry[],
): { kind: 'model_provider'; provider: string; data: 'pseudonymised_text'; first_at: string; last_at: string }[] {
  const byProvider = new Map<string, { first_at: string; last_at: string }>();
  for (const r of rows) {
    const provider = r.action === MODEL_DISCLOSURE_ACTION ? r.details.provider : undefined;
    if (typeof provider !== 'string') {
      continue;
    }
    const seen = byProvider.get(provider);
    if (seen) {
      seen.last_at = r.at;
    } else {
      byProvider.set(provider, { first_at: r.at, last_at: r.at });
    }
  }
  return [...byProvider].map(([provider, t]) => ({
    kind: 'model_provider' as const,
    provider,
    data: 'pseudonymised_text' as const,
    ...t,
  }));
}

/** Patients of the caller's clinic. Every access writes one audit row in the same transaction. */
export class PatientsRepository {
  constructor(
    private readonly ctx: TxContext,
    private readonly audit: AuditRepository,
  ) {}

  private async shape(rows: Patient[]): Promise<Patient[]> {
    const role = await this.ctx.memberRole();
    return rows.map((p) => shapeFor(role, p));
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
    // The caller's role (for shape) is asked right behind it: the two share a round trip.
    const [rows] = await Promise.all([
      name !== null || cpf !== null
        ? this.ctx.rows<Patient>(
            pageWithNotes(
              'p.id in (select app.search_patient_ids($1, $2, $3, $4, $5, $6)) and p.anonymized_at is null',
              '$5',
            ),
            [name, cpf, cursor?.k ?? null, cursor?.id ?? null, limit + 1, phoneDigits],
          )
        : this.ctx.rows<Patient>(
            pageWithNotes(
              'p.anonymized_at is null and ($1::timestamptz is null or (p.created_at, p.id) > ($1::timestamptz, $2::uuid))',
              '$3',
            ),
            [cursor?.k ?? null, cursor?.id ?? null, limit + 1],
          ),
      this.ctx.memberRole(),
    ]);
    const page = toPage(await this.shape(rows), limit, (r) => ({ k: r.created_at, id: r.id }));
    await this.audit.record('patient.search', 'patient', null, {
      by: term === '' ? 'list' : byCpf ? 'cpf' : 'name',
      result_count: page.data.length,
      patient_ids: page.data.map((p) => p.id),
    });
    return page;
  }

  /**
   * Patients (id and name) whose name shares a word with `words` (already folded: lower case, no
   * accents), for pseudonymising what a user types before it reaches an external model. Nothing
   * leaves the process; the run records which patients a provider received (pseudonymised).
   */
  namesSharingWords(words: readonly string[]): Promise<{ id: string; full_name: string }[]> {
    if (words.length === 0) {
      return Promise.resolve([]);
    }
    return this.ctx.rows(
      `select p.id, p.full_name from public.patients p
        where p.anonymized_at is null and regexp_split_to_array(app.search_norm(p.full_name), '\\s+') && $1::text[]
        limit 2000`,
      [words],
    );
  }

  /** Ids of the caller's patients with exactly these names (for the disclosure audit row). */
  async idsByNames(names: readonly string[]): Promise<string[]> {
    if (names.length === 0) {
      return [];
    }
    const rows = await this.ctx.rows<{ id: string }>(
      'select p.id from public.patients p where p.full_name = any($1::text[])',
      [names],
    );
    return rows.map((r) => r.id);
  }

  private async find(id: string): Promise<Patient> {
    const row = await this.ctx.preparedOne<Patient>(PATIENT_BY_ID, [id]);
    if (!row) {
      throw new NotFoundError('patient');
    }
    const [patient] = await this.shape([row]);
    if (patient === undefined) {
      throw new Error('shape() returns one patient per row');
    }
    return patient;
  }

  /**
   * The patient, audited as `patient.read`. One statement, sent before the first await: it can run
   * as `Database.withUserStatement` (preamble, statement and commit in one round trip).
   */
  async get(id: string): Promise<Patient> {
    const row = await this.ctx.preparedOne<Patient & { member_role: string | null; audited: unknown }>(PATIENT_READ, [
      id,
    ]);
    if (!row) {
      throw new NotFoundError('patient');
    }
    const { member_role: role, audited: _audited, ...patient } = row;
    return shapeFor(role, patient);
  }

  async create(input: PatientInput): Promise<Patient> {
    await this.guardNotes(input);
    try {
      const row = await this.ctx.one<{ id: string }>(
        `insert into public.patients (clinic_id, full_name, cpf, birth_date, phone, email)
         values (app.current_clinic_id(), $1, $2, $3, $4, $5) returning id`,
        [input.full_name, normalizeCpf(input.cpf), input.birth_date ?? null, input.phone ?? null, input.email ?? null],
      );
      if (input.clinical_notes !== undefined && input.clinical_notes !== null) {
        await this.writeNotes(row!.id, input.clinical_notes);
      }
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
           email = case when $10 then $11 else email end
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
        ],
      );
      if (patch.clinical_notes !== undefined) {
        await this.writeNotes(id, patch.clinical_notes);
      }
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
    // Every user's chat that mentions them (chat is owner-only under RLS: a definer function).
    const chatMessages = await this.ctx.rows(
      'select id, session_id, role, content, created_at from app.patient_chat_mentions($1)',
      [id],
    );
    await this.audit.record('patient.export', 'patient', id);
    const auditRows = await this.audit.aboutPatient(id);
    return {
      exported_at: new Date().toISOString(),
      patient,
      appointments,
      consents,
      chat_messages: chatMessages,
      // LGPD art. 18 VII: who received their data. External model providers only ever received
      // pseudonymised text (placeholders), recorded per run as `agent.model_disclosure`.
      recipients: recipientsOf(auditRows),
      audit: auditRows,
    };
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
    await this.ctx.db.query('delete from public.patient_clinical_notes where patient_id = $1', [id]);
    const row = await this.ctx.one<{ anonymized_at: string }>(
      `update public.patients set full_name = $2, cpf = null, birth_date = null, phone = null, email = null,
              anonymized_at = now()
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

  /** Notes of a patient (null removes them). The table's policy refuses anyone but clinicians. */
  private async writeNotes(id: string, notes: string | null): Promise<void> {
    if (notes === null) {
      await this.ctx.db.query('delete from public.patient_clinical_notes where patient_id = $1', [id]);
      return;
    }
    await this.ctx.db.query(
      `insert into public.patient_clinical_notes (patient_id, clinic_id, notes) values ($1, app.current_clinic_id(), $2)
       on conflict (patient_id) do update set notes = excluded.notes`,
      [id, notes],
    );
  }

  private async guardNotes(input: { clinical_notes?: string | null }): Promise<void> {
    if (input.clinical_notes !== undefined && (await this.ctx.memberRole()) === 'receptionist') {
      throw new ForbiddenError('receptionists cannot write clinical notes');
    }
  }
}

import { NotFoundError } from '../errors.js';
import type { AuditRepository } from './audit.repository.js';
import type { TxContext } from './context.js';

export interface Consent {
  id: string;
  clinic_id: string;
  patient_id: string;
  purpose: string;
  legal_basis: string;
  granted_at: string;
  revoked_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface ConsentInput {
  purpose: string;
  legal_basis: string;
  granted_at?: string;
}

const COLS = 'id, clinic_id, patient_id, purpose, legal_basis, granted_at, revoked_at, created_at, updated_at';

/** LGPD consents, always under a patient of the caller's clinic. */
export class ConsentsRepository {
  constructor(
    private readonly ctx: TxContext,
    private readonly audit: AuditRepository,
  ) {}

  private async requirePatient(patientId: string): Promise<void> {
    const p = await this.ctx.one('select 1 from public.patients where id = $1', [patientId]);
    if (!p) {
      throw new NotFoundError('patient');
    }
  }

  async list(patientId: string): Promise<Consent[]> {
    await this.requirePatient(patientId);
    const rows = await this.ctx.rows<Consent>(
      `select ${COLS} from public.consents where patient_id = $1 order by granted_at, id`,
      [patientId],
    );
    await this.audit.record('consent.list', 'patient', patientId);
    return rows;
  }

  async grant(patientId: string, input: ConsentInput): Promise<Consent> {
    await this.requirePatient(patientId);
    const row = await this.ctx.one<Consent>(
      `insert into public.consents (clinic_id, patient_id, purpose, legal_basis, granted_at)
       values (app.current_clinic_id(), $1, $2, $3, coalesce($4::timestamptz, now())) returning ${COLS}`,
      [patientId, input.purpose, input.legal_basis, input.granted_at ?? null],
    );
    await this.audit.record('consent.grant', 'patient', patientId, { consent_id: row!.id, purpose: input.purpose });
    return row!;
  }

  /** Revoking twice keeps the first revocation time. */
  async revoke(patientId: string, consentId: string): Promise<Consent> {
    await this.requirePatient(patientId);
    const row = await this.ctx.one<Consent>(
      `update public.consents set revoked_at = coalesce(revoked_at, now())
        where id = $1 and patient_id = $2 returning ${COLS}`,
      [consentId, patientId],
    );
    if (!row) {
      throw new NotFoundError('consent');
    }
    await this.audit.record('consent.revoke', 'patient', patientId, { consent_id: consentId });
    return row;
  }
}

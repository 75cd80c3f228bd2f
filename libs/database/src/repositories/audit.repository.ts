import { ForbiddenError } from '../errors.js';
import { decodeCursor, type Page, toPage } from '../pagination.js';
import { clampLimit, type Statement, type TxContext } from './context.js';

export interface AuditEntry {
  id: number;
  clinic_id: string;
  actor_id: string | null;
  action: string;
  subject_type: string;
  subject_id: string | null;
  request_id: string | null;
  at: string;
  details: Record<string, unknown>;
}

export interface AuditQuery {
  subject_id?: string;
  from?: string;
  to?: string;
  limit?: number;
  cursor?: string;
}

/** An external model provider received a run's pseudonymised text about `details.patient_ids`. */
export const MODEL_DISCLOSURE_ACTION = 'agent.model_disclosure';

/**
 * Every access that returned the patient ($1): their own reads and writes, rows naming them, and
 * the searches, listings and agent tool calls that listed them in `details.patient_ids`.
 */
export const ABOUT_PATIENT = `(subject_id = $1 or details->>'patient_id' = $1::text or details->'patient_ids' ? $1::text)`;

// Rows are written only through app.audit() (security definer: actor from auth.uid(), request id
// from the server's setting); a named statement since it runs on every audited request.
const AUDIT_INSERT: Statement = {
  name: 'audit_insert',
  text: 'select app.audit($1, $2, $3, $4::jsonb)',
};

/** Append-only LGPD audit trail. Rows never carry personal data, only ids and counts. */
export class AuditRepository {
  constructor(private readonly ctx: TxContext) {}

  /**
   * Writes one row in the caller's transaction through `app.audit` (nobody inserts directly):
   * actor and clinic come from the JWT, the request id from the server's own setting.
   */
  async record(
    action: string,
    subjectType: string,
    subjectId: string | null,
    details: Record<string, unknown> = {},
  ): Promise<void> {
    await this.ctx.prepared(AUDIT_INSERT, [action, subjectType, subjectId, JSON.stringify(details)]);
  }

  /** Admins only. Newest first. */
  async list(q: AuditQuery): Promise<Page<AuditEntry>> {
    if ((await this.ctx.memberRole()) !== 'admin') {
      throw new ForbiddenError('only admins read the audit log');
    }
    const limit = clampLimit(q.limit, 50, 200);
    const cursor = decodeCursor(q.cursor);
    const rows = await this.ctx.rows<AuditEntry>(
      `select id, clinic_id, actor_id, action, subject_type, subject_id, request_id, at, details
         from public.audit_log
        where ($1::uuid is null or ${ABOUT_PATIENT})
          and ($2::timestamptz is null or at >= $2) and ($3::timestamptz is null or at < $3)
          and ($4::bigint is null or id < $4)
        order by id desc limit $5`,
      [q.subject_id ?? null, q.from ?? null, q.to ?? null, cursor ? Number(cursor.id) : null, limit + 1],
    );
    return toPage(rows, limit, (r) => ({ k: r.at, id: String(r.id) }));
  }

  /** Every entry about a patient (subject or referenced), for the data-subject export. */
  async aboutPatient(patientId: string): Promise<AuditEntry[]> {
    return this.ctx.rows<AuditEntry>(
      `select id, clinic_id, actor_id, action, subject_type, subject_id, request_id, at, details
         from public.audit_log where ${ABOUT_PATIENT} order by id`,
      [patientId],
    );
  }
}

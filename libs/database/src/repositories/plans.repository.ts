import { NotFoundError } from '../errors.js';
import type { TxContext } from './context.js';

/** The settable fields of a plan; null inherits (clinic plan -> default plan -> gateway settings). */
export const PLAN_FIELDS = [
  'healthcare_limit',
  'healthcare_window_s',
  'ai_limit',
  'ai_window_s',
  'auth_limit',
  'auth_window_s',
  'default_limit',
  'default_window_s',
  'ai_clinic_limit',
  'ai_clinic_window_s',
  'monthly_ai_tokens',
] as const;
export type PlanField = (typeof PLAN_FIELDS)[number];
export type PlanColumns = Record<PlanField, number | null>;

/** A clinic's stored plan and the default plan, unmerged (the gateway merges with its settings). */
export interface StoredPlan {
  clinic_id: string;
  slug: string;
  timezone: string;
  defaults: PlanColumns;
  /** Null when the clinic has no plan of its own. */
  plan: PlanColumns | null;
  updated_at: string | null;
}

const COLS = PLAN_FIELDS.join(', ');

function columns(row: Record<string, unknown> | null): PlanColumns | null {
  if (!row) {
    return null;
  }
  const out = {} as PlanColumns;
  for (const f of PLAN_FIELDS) {
    out[f] = row[f] === null || row[f] === undefined ? null : Number(row[f]);
  }
  return out;
}

/**
 * Plans: read by the gateway (service path, any clinic) and by members (RLS, their clinic);
 * written only by the owner role (the plan CLI): no grant lets an API role change them.
 */
export class PlansRepository {
  constructor(private readonly ctx: TxContext) {}

  /** The clinic's plan and the default plan (service/owner path; `current()` for members). */
  async forClinic(clinicId: string): Promise<StoredPlan> {
    return this.read('c.id = $1', [clinicId]);
  }

  /** The caller's clinic (RLS). */
  async current(): Promise<StoredPlan> {
    return this.read('c.id = app.current_clinic_id()', []);
  }

  /** The default plan as stored (null fields inherit the gateway settings). */
  async defaults(): Promise<PlanColumns | null> {
    return columns(
      (await this.ctx.one<Record<string, unknown>>(`select ${COLS} from public.plan_defaults where singleton`)) ?? null,
    );
  }

  /** Owner path (CLI): a clinic by slug or id. */
  async findClinic(slugOrId: string): Promise<{ id: string; slug: string }> {
    const row = await this.ctx.one<{ id: string; slug: string }>(
      `select id, slug from public.clinics where slug = $1 or id::text = $1`,
      [slugOrId],
    );
    if (!row) {
      throw new NotFoundError('clinic');
    }
    return row;
  }

  /**
   * Owner path (CLI): sets the given fields of a clinic's plan (creating it) or, with
   * `clinicId` null, of the default plan. Fields not given keep their value.
   */
  async set(clinicId: string | null, patch: Partial<PlanColumns>): Promise<void> {
    const fields = PLAN_FIELDS.filter((f) => patch[f] !== undefined);
    const values = fields.map((f) => patch[f]);
    if (clinicId === null) {
      const sets = [...fields.map((f, i) => `${f} = $${i + 1}`), 'updated_at = now()'].join(', ');
      await this.ctx.db.query(`update public.plan_defaults set ${sets} where singleton`, values);
      return;
    }
    const cols = ['clinic_id', ...fields].join(', ');
    const params = ['$1', ...fields.map((_, i) => `$${i + 2}`)].join(', ');
    const updates = [...fields.map((f) => `${f} = excluded.${f}`), 'updated_at = now()'].join(', ');
    await this.ctx.db.query(
      `insert into public.clinic_plans (${cols}) values (${params})
       on conflict (clinic_id) do update set ${updates}`,
      [clinicId, ...values],
    );
  }

  private async read(where: string, values: unknown[]): Promise<StoredPlan> {
    const row = await this.ctx.one<{
      clinic_id: string;
      slug: string;
      timezone: string;
      defaults: Record<string, unknown> | null;
      plan: Record<string, unknown> | null;
      updated_at: string | null;
    }>(
      `select c.id as clinic_id, c.slug, c.timezone,
              (select to_jsonb(d) from (select ${COLS} from public.plan_defaults where singleton) d) as defaults,
              (select to_jsonb(p) from (select ${COLS} from public.clinic_plans where clinic_id = c.id) p) as plan,
              (select updated_at from public.clinic_plans where clinic_id = c.id) as updated_at
         from public.clinics c where ${where}`,
      values,
    );
    if (!row) {
      throw new NotFoundError('clinic');
    }
    return {
      clinic_id: row.clinic_id,
      slug: row.slug,
      timezone: row.timezone,
      defaults: columns(row.defaults) ?? columns({})!,
      plan: columns(row.plan),
      updated_at: row.updated_at,
    };
  }
}

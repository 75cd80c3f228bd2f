import type { TxContext } from './context.js';

export interface Professional {
  id: string;
  clinic_id: string;
  user_id: string | null;
  full_name: string;
  specialty: string | null;
  active: boolean;
}

export class ProfessionalsRepository {
  constructor(private readonly ctx: TxContext) {}

  list(opts: { includeInactive?: boolean } = {}): Promise<Professional[]> {
    return this.ctx.rows<Professional>(
      `select id, clinic_id, user_id, full_name, specialty, active from public.professionals
        where ($1 or active) order by full_name, id`,
      [opts.includeInactive ?? false],
    );
  }

  /** By accent-insensitive name fragment (e.g. "lima" finds "Dra. Lima"). */
  findByName(name: string): Promise<Professional[]> {
    return this.ctx.rows<Professional>(
      `select id, clinic_id, user_id, full_name, specialty, active from public.professionals
        where active and app.search_norm(full_name) like '%' || app.search_norm($1) || '%' order by full_name`,
      [name],
    );
  }
}

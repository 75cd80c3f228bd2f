import { NotFoundError } from '../errors.js';
import type { TxContext } from './context.js';

export interface Clinic {
  id: string;
  slug: string;
  name: string;
  timezone: string;
  phone: string | null;
  address: string | null;
  opening_hours: Record<string, string>;
  /** Services offered, with their usual duration. */
  procedures: { name: string; duration_minutes: number }[];
}

export class ClinicsRepository {
  constructor(private readonly ctx: TxContext) {}

  /** The caller's own clinic. */
  async current(): Promise<Clinic> {
    const row = await this.ctx.one<Clinic>(
      `select id, slug, name, timezone, phone, address, opening_hours, procedures from public.clinics
        where id = app.current_clinic_id()`,
    );
    if (!row) {
      throw new NotFoundError('clinic');
    }
    return row;
  }
}

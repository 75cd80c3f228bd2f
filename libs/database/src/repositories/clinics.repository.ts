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
}

export class ClinicsRepository {
  constructor(private readonly ctx: TxContext) {}

  /** The caller's own clinic. */
  async current(): Promise<Clinic> {
    const row = await this.ctx.one<Clinic>(
      `select id, slug, name, timezone, phone, address, opening_hours from public.clinics
        where id = app.current_clinic_id()`,
    );
    if (!row) {
      throw new NotFoundError('clinic');
    }
    return row;
  }
}

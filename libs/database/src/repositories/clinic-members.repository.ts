import type { ClinicRole } from '@neonpro/contracts';
import type { TxContext } from './context.js';

export interface Membership {
  user_id: string;
  clinic_id: string;
  role: ClinicRole;
}

export class ClinicMembersRepository {
  constructor(private readonly ctx: TxContext) {}

  /** Resolves a verified user's clinic and role for the principal (as that user: RLS shows their own row). */
  async findByUser(userId: string): Promise<Membership | undefined> {
    return this.ctx.one<Membership>('select user_id, clinic_id, role from public.clinic_members where user_id = $1', [
      userId,
    ]);
  }

  /** Members of the caller's clinic (RLS). */
  list(): Promise<Membership[]> {
    return this.ctx.rows<Membership>('select user_id, clinic_id, role from public.clinic_members order by created_at');
  }
}

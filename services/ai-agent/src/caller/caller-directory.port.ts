import type { ClinicRole } from '@neonpro/contracts';

/** Where the agent learns a verified user's clinic and role: the database, never the message. */
export interface CallerDirectory {
  membership(userId: string): Promise<{ clinic_id: string; role: ClinicRole } | undefined>;
}
export const CALLER_DIRECTORY = Symbol('CALLER_DIRECTORY');

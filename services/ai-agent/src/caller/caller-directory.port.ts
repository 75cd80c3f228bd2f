import type { AgentCallerClaims, ClinicRole } from '@neonpro/contracts';

/** Where the agent learns a verified user's clinic and role: the database, never the message. */
export interface CallerDirectory {
  membership(userId: string): Promise<{ clinic_id: string; role: ClinicRole } | undefined>;
}
export const CALLER_DIRECTORY = Symbol('CALLER_DIRECTORY');

/**
 * The user a run's grant names, once the grant is verified; their clinic and role are not read
 * yet (the conversation store may read them in the turn's first transaction).
 */
export interface VerifiedRunUser {
  sub: string;
  raw: AgentCallerClaims['raw'];
}

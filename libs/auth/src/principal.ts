import type { ClinicRole } from '@neonpro/contracts';

/** Who is calling: the verified Supabase user plus their clinic membership. */
export interface Principal {
  user_id: string;
  email: string | null;
  clinic_id: string;
  role: ClinicRole;
}

/** The verified access-token claims, kept as-is so they can be forwarded (e.g. to the agent). */
export interface VerifiedClaims {
  sub: string;
  aud: string | string[];
  role?: string;
  email?: string;
  exp: number;
  iat?: number;
  iss: string;
  session_id?: string;
  [claim: string]: unknown;
}

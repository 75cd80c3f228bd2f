import { z } from 'zod';
import { CLINIC_ROLES } from './domain.js';

/**
 * The caller a run executes as, inside the agent: the user id from a verified run grant, clinic
 * and role read from the database (never from the message). `raw` goes to Postgres as
 * `request.jwt.claims`, so RLS applies. Never sent on the bus.
 */
export const agentCallerClaimsSchema = z.object({
  /** The user's id (auth.users.id). */
  // guid, not uuid: seeded and imported ids need not carry RFC 9562 version bits (Postgres doesn't care).
  sub: z.guid(),
  /** Null for users without an e-mail (e.g. phone sign-in). */
  email: z.email().nullable(),
  clinic_id: z.guid(),
  role: z.enum(CLINIC_ROLES),
  /** The verified claims object as issued, forwarded untouched to the database session. */
  raw: z.record(z.string(), z.unknown()),
});
export type AgentCallerClaims = z.infer<typeof agentCallerClaimsSchema>;

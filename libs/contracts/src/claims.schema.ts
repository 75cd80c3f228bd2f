import { z } from 'zod';
import { CLINIC_ROLES } from './domain.js';

/**
 * Gateway → agent, JSON in NATS header `x-neonpro-claims` (NATS_HEADERS.claims): the caller's
 * verified JWT claims. Only the gateway sets it, after verifying the token; the agent runs every
 * tool "as" this caller, forwarding `raw` to Postgres as `request.jwt.claims` so RLS applies.
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

/** Parses the header value; undefined when absent, not JSON or not matching the schema. */
export function parseCallerClaimsHeader(value: string | undefined): AgentCallerClaims | undefined {
  if (!value) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    return undefined;
  }
  const parsed = agentCallerClaimsSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

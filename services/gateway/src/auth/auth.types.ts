import type { Principal, VerifiedClaims } from '@neonpro/auth';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by JwtAuthGuard. */
    principal?: Principal;
    /** The raw verified access-token claims (forwarded to the database and, later, the agent). */
    claims?: VerifiedClaims;
  }
}

export interface Authenticated {
  principal: Principal;
  claims: VerifiedClaims;
}

import type { Principal, VerifiedClaims } from '@neonpro/auth';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by PrincipalResolverGuard or JwtAuthGuard. */
    principal?: Principal;
    /** The raw verified access-token claims (forwarded to the database and the agent). */
    claims?: VerifiedClaims;
    /** Why the bearer token was refused, so protected routes rethrow it instead of verifying again. */
    authError?: Error;
  }
}

export interface Authenticated {
  principal: Principal;
  claims: VerifiedClaims;
}

import { Inject, Injectable, type Provider } from '@nestjs/common';
import { SupabaseTokenVerifier, TokenError, type VerifiedClaims } from '@neonpro/auth';
import type { Membership } from '@neonpro/database';
import { ErrorCode } from '@neonpro/contracts';
import { ProblemException } from '../common/problem.js';
import { GATEWAY_CONFIG, type GatewayRuntimeConfig } from '../gateway.config.js';
import type { Authenticated } from './auth.types.js';
import { MembershipService } from './membership.service.js';

export const tokenVerifierProvider: Provider = {
  provide: SupabaseTokenVerifier,
  inject: [GATEWAY_CONFIG],
  useFactory: (config: GatewayRuntimeConfig) =>
    new SupabaseTokenVerifier({
      supabaseUrl: config.SUPABASE_URL,
      jwtSecret: config.SUPABASE_JWT_SECRET,
      jwksCacheMaxAgeMs: config.JWKS_CACHE_MAX_AGE_MS,
      verifiedCacheTtlMs: config.AUTH_TOKEN_CACHE_TTL_MS,
    }),
};

/**
 * Token → principal, shared by the HTTP guard and any other transport (Socket.IO, SSE).
 * Failures are 401 problems (`unauthorized` / `token_expired`), or 403 for a valid user with no clinic.
 */
@Injectable()
export class Authenticator {
  constructor(
    @Inject(SupabaseTokenVerifier) private readonly verifier: SupabaseTokenVerifier,
    private readonly memberships: MembershipService,
  ) {}

  async authenticate(token: string | undefined): Promise<Authenticated> {
    if (!token) {
      throw unauthorized(ErrorCode.Unauthorized, 'A bearer access token is required.');
    }
    let claims;
    try {
      claims = await this.verifier.verify(token);
    } catch (err) {
      if (err instanceof TokenError) {
        throw unauthorized(
          err.code,
          err.code === 'token_expired' ? 'The access token has expired.' : 'The access token is not valid.',
        );
      }
      throw err;
    }
    const membership = await this.memberships.resolve(claims.sub);
    if (!membership) {
      throw new ProblemException(403, ErrorCode.Forbidden, 'This user is not a member of any clinic.');
    }
    return authenticated(claims, membership);
  }

  /**
   * What `authenticate` answers, without waiting, when the token and the member are both in their
   * caches; `undefined` means call `authenticate` (which also reports every failure). Guards use it
   * to stay synchronous on the common path: Nest awaits nothing for a guard that returns a boolean.
   */
  cached(token: string | undefined): Authenticated | undefined {
    const claims = token ? this.verifier.cached(token) : undefined;
    const membership = claims && this.memberships.cachedMember(claims.sub);
    return membership ? authenticated(claims, membership) : undefined;
  }
}

function authenticated(claims: VerifiedClaims, membership: Membership): Authenticated {
  return {
    claims,
    principal: {
      user_id: claims.sub,
      email: typeof claims.email === 'string' ? claims.email : null,
      clinic_id: membership.clinic_id,
      role: membership.role,
    },
  };
}

function unauthorized(code: string, detail: string): ProblemException {
  return new ProblemException(401, code, detail, { headers: { 'WWW-Authenticate': 'Bearer' } });
}

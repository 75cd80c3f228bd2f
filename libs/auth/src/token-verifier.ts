import { createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { VerifiedClaims } from './principal.js';

export interface TokenVerifierOptions {
  /** e.g. https://<ref>.supabase.co or the dev emulator http://127.0.0.1:54321 */
  supabaseUrl: string;
  /** Legacy HS256 project secret; HS256 tokens are refused when absent. */
  jwtSecret?: string;
  audience?: string;
  /** How long fetched JWKS keys are trusted before a refetch. */
  jwksCacheMaxAgeMs?: number;
  clockToleranceS?: number;
  /**
   * How long a verified token's claims are remembered (never past the token's own exp), so a
   * client sending the same token on every request pays the signature check once. 0 disables.
   */
  verifiedCacheTtlMs?: number;
  /** Most tokens remembered at once (oldest forgotten first). */
  verifiedCacheMax?: number;
}

export type TokenErrorCode = 'unauthorized' | 'token_expired';

export class TokenError extends Error {
  constructor(
    readonly code: TokenErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'TokenError';
  }
}

const ASYMMETRIC = ['ES256', 'RS256'];

export function supabaseIssuer(supabaseUrl: string): string {
  return `${supabaseUrl.replace(/\/+$/, '')}/auth/v1`;
}

/**
 * Verifies Supabase access tokens locally: asymmetric keys from the project's JWKS (cached by
 * jose, refetched on an unknown kid with a cooldown) and the legacy HS256 secret. exp, iss and
 * aud are always checked; `alg: none`, unknown kids and bad signatures are rejected.
 */
export class SupabaseTokenVerifier {
  private readonly jwks: JWTVerifyGetKey;
  private readonly secret?: Uint8Array;
  readonly issuer: string;
  private readonly audience: string;
  private readonly tolerance: number;
  private readonly cacheTtl: number;
  private readonly cacheMax: number;
  private readonly verified = new Map<string, { claims: VerifiedClaims; until: number }>();

  constructor(opts: TokenVerifierOptions) {
    this.issuer = supabaseIssuer(opts.supabaseUrl);
    this.audience = opts.audience ?? 'authenticated';
    this.tolerance = opts.clockToleranceS ?? 5;
    this.cacheTtl = opts.verifiedCacheTtlMs ?? 0;
    this.cacheMax = opts.verifiedCacheMax ?? 10000;
    this.jwks = createRemoteJWKSet(new URL(`${this.issuer}/.well-known/jwks.json`), {
      cacheMaxAge: opts.jwksCacheMaxAgeMs ?? 10 * 60 * 1000,
      cooldownDuration: 30 * 1000,
      timeoutDuration: 5000,
    });
    if (opts.jwtSecret) {
      this.secret = new TextEncoder().encode(opts.jwtSecret);
    }
  }

  /**
   * Verifies the signature, exp, iss and aud, or answers from the verified-token cache: the key
   * is the whole token string, so only the exact bytes already verified are trusted, and an entry
   * lives until min(exp, now + verifiedCacheTtlMs). Only successes are cached.
   */
  async verify(token: string): Promise<VerifiedClaims> {
    if (this.cacheTtl <= 0) {
      return this.verifyUncached(token);
    }
    const now = Date.now();
    const hit = this.cached(token, now);
    if (hit) {
      return hit;
    }
    this.verified.delete(token);
    const claims = await this.verifyUncached(token);
    const until = Math.min(now + this.cacheTtl, claims.exp * 1000);
    if (until > now) {
      if (this.verified.size >= this.cacheMax) {
        this.verified.delete(this.verified.keys().next().value!);
      }
      this.verified.set(token, { claims, until });
    }
    return claims;
  }

  /**
   * The claims `verify` would answer from its cache, without waiting: a token whose exact bytes were
   * verified and whose entry has not ended. `undefined` means call `verify`. Lets a caller on a
   * hot path stay synchronous when nothing needs checking.
   */
  cached(token: string, now = Date.now()): VerifiedClaims | undefined {
    const hit = this.verified.get(token);
    return hit !== undefined && hit.until > now ? hit.claims : undefined;
  }

  private async verifyUncached(token: string): Promise<VerifiedClaims> {
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw new TokenError('unauthorized', 'malformed token');
    }
    const common = {
      issuer: this.issuer,
      audience: this.audience,
      clockTolerance: this.tolerance,
      requiredClaims: ['exp', 'sub'],
    };
    try {
      let payload;
      if (alg === 'HS256') {
        if (!this.secret) {
          throw new TokenError('unauthorized', 'HS256 tokens are not accepted');
        }
        ({ payload } = await jwtVerify(token, this.secret, { ...common, algorithms: ['HS256'] }));
      } else if (alg && ASYMMETRIC.includes(alg)) {
        ({ payload } = await jwtVerify(token, this.jwks, { ...common, algorithms: ASYMMETRIC }));
      } else {
        throw new TokenError('unauthorized', 'unsupported token algorithm');
      }
      return payload as VerifiedClaims;
    } catch (err) {
      if (err instanceof TokenError) {
        throw err;
      }
      if (err instanceof errors.JWTExpired) {
        throw new TokenError('token_expired', 'token expired');
      }
      if (err instanceof errors.JOSEError) {
        throw new TokenError('unauthorized', `invalid token (${err.code})`);
      }
      // JWKS unreachable and similar: still a refusal, never an unverified pass.
      throw new TokenError('unauthorized', 'token could not be verified');
    }
  }
}

/** The bearer token of an Authorization header, if well-formed. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const m = value ? /^Bearer\s+([A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]*)$/i.exec(value.trim()) : null;
  return m?.[1];
}

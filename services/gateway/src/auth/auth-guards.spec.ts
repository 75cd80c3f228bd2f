import { jest } from '@jest/globals';
import type { ExecutionContext } from '@nestjs/common';
import { SupabaseTokenVerifier } from '@neonpro/auth';
import type { Membership } from '@neonpro/database';
import { SignJWT } from 'jose';
import type { Authenticated } from './auth.types.js';
import { Authenticator } from './authenticator.service.js';
import { JwtAuthGuard } from './jwt-auth.guard.js';
import type { MembershipService } from './membership.service.js';
import { PrincipalResolverGuard } from './principal-resolver.guard.js';

const SECRET = 'unit-test-legacy-jwt-secret-with-32-chars';
const SUPABASE_URL = 'http://127.0.0.1:9';
const T0 = Date.parse('2026-12-01T12:00:00Z');
const MEMBER: Membership = { clinic_id: 'clinic-1', role: 'admin' } as Membership;

function token(sub: string): Promise<string> {
  return new SignJWT({ role: 'authenticated', email: `${sub}@example.test` })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuer(`${SUPABASE_URL}/auth/v1`)
    .setAudience('authenticated')
    .setIssuedAt(Math.floor(T0 / 1000))
    .setExpirationTime(Math.floor(T0 / 1000) + 600)
    .sign(new TextEncoder().encode(SECRET));
}

/** A real verifier (HS256, 30 s cache) and memberships that know `member-*` users once resolved. */
function authenticator(): { auth: Authenticator; resolved: string[] } {
  const resolved: string[] = [];
  const known = new Map<string, Membership>();
  const memberships = {
    resolve: (userId: string) => {
      resolved.push(userId);
      const m = userId.startsWith('member') ? MEMBER : undefined;
      if (m) {
        known.set(userId, m);
      }
      return Promise.resolve(m);
    },
    cachedMember: (userId: string) => known.get(userId),
  };
  const verifier = new SupabaseTokenVerifier({
    supabaseUrl: SUPABASE_URL,
    jwtSecret: SECRET,
    verifiedCacheTtlMs: 30000,
  });
  return { auth: new Authenticator(verifier, memberships as unknown as MembershipService), resolved };
}

const httpContext = (req: object): ExecutionContext =>
  ({ getType: () => 'http', switchToHttp: () => ({ getRequest: () => req }) }) as unknown as ExecutionContext;

describe('authentication on the hot path', () => {
  beforeEach(() => jest.useFakeTimers({ now: T0 }));
  afterEach(() => jest.useRealTimers());

  it('Authenticator.cached answers what authenticate did, once the token and the member are cached', async () => {
    const { auth } = authenticator();
    const t = await token('member-1');
    expect(auth.cached(t)).toBeUndefined();
    expect(auth.cached(undefined)).toBeUndefined();
    const first = await auth.authenticate(t);
    expect(auth.cached(t)).toEqual(first);
    expect(first.principal).toEqual({
      user_id: 'member-1',
      email: 'member-1@example.test',
      clinic_id: 'clinic-1',
      role: 'admin',
    });
    // Other bytes, or the verified entry gone: authenticate decides again.
    expect(auth.cached(`${t}x`)).toBeUndefined();
    jest.setSystemTime(T0 + 30000);
    expect(auth.cached(t)).toBeUndefined();
  });

  it('never answers for a user with no clinic (authenticate reports the 403)', async () => {
    const { auth } = authenticator();
    const t = await token('stranger');
    await expect(auth.authenticate(t)).rejects.toMatchObject({ status: 403 });
    expect(auth.cached(t)).toBeUndefined();
  });

  it('PrincipalResolverGuard sets the principal and returns a plain true (nothing for Nest to await) when cached', async () => {
    const { auth, resolved } = authenticator();
    const guard = new PrincipalResolverGuard(auth);
    const t = await token('member-2');
    const cold = { raw: {}, headers: { authorization: `Bearer ${t}` } } as Record<string, unknown>;
    const first = guard.canActivate(httpContext(cold));
    expect(first).toBeInstanceOf(Promise);
    expect(await first).toBe(true);
    const warm = { raw: {}, headers: { authorization: `Bearer ${t}` } } as Record<string, unknown>;
    expect(guard.canActivate(httpContext(warm))).toBe(true);
    expect(warm.principal).toEqual(cold.principal);
    expect((warm.claims as Authenticated['claims']).sub).toBe('member-2');
    expect(resolved).toEqual(['member-2']);
  });

  it('JwtAuthGuard returns a plain true for a request the resolver authenticated, and waits otherwise', async () => {
    const { auth } = authenticator();
    const guard = new JwtAuthGuard(auth);
    const t = await token('member-3');
    const req = { raw: {}, headers: { authorization: `Bearer ${t}` } } as Record<string, unknown>;
    const first = guard.canActivate(httpContext(req));
    expect(first).toBeInstanceOf(Promise);
    expect(await first).toBe(true);
    expect(guard.canActivate(httpContext(req))).toBe(true);
    const bad = { raw: {}, headers: {} } as Record<string, unknown>;
    await expect(guard.canActivate(httpContext(bad))).rejects.toMatchObject({ status: 401 });
  });
});

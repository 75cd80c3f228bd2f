import { jest } from '@jest/globals';
import { SignJWT } from 'jose';
import { SupabaseTokenVerifier } from './token-verifier.js';

const SECRET = 'unit-test-legacy-jwt-secret-with-32-chars';
const URL_ = 'http://127.0.0.1:9';
const T0 = Date.parse('2026-12-01T12:00:00Z');

function token(expInS: number, sub = 'user-1'): Promise<string> {
  return new SignJWT({ role: 'authenticated' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuer(`${URL_}/auth/v1`)
    .setAudience('authenticated')
    .setIssuedAt(Math.floor(T0 / 1000))
    .setExpirationTime(Math.floor(T0 / 1000) + expInS)
    .sign(new TextEncoder().encode(SECRET));
}

describe('SupabaseTokenVerifier verified-token cache', () => {
  beforeEach(() => jest.useFakeTimers({ now: T0 }));
  afterEach(() => jest.useRealTimers());

  const verifier = (ttl: number) =>
    new SupabaseTokenVerifier({ supabaseUrl: URL_, jwtSecret: SECRET, verifiedCacheTtlMs: ttl });

  it('answers a repeated token from the cache (same claims object), and never a token with other bytes', async () => {
    const v = verifier(30000);
    const t = await token(600);
    const first = await v.verify(t);
    expect(await v.verify(t)).toBe(first);
    const [h, p, sig = ''] = t.split('.');
    const forged = `${h}.${p}.${sig.slice(0, -2)}${sig.endsWith('AA') ? 'BB' : 'AA'}`;
    await expect(v.verify(forged)).rejects.toMatchObject({ name: 'TokenError', code: 'unauthorized' });
  });

  it('forgets an entry after its TTL (verifies again: a new claims object)', async () => {
    const v = verifier(1000);
    const t = await token(600);
    const first = await v.verify(t);
    jest.setSystemTime(T0 + 1500);
    const again = await v.verify(t);
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
  });

  it('never serves a token past its exp, whatever the TTL', async () => {
    const v = verifier(600000);
    const t = await token(10);
    await v.verify(t);
    jest.setSystemTime(T0 + 60000);
    await expect(v.verify(t)).rejects.toMatchObject({ code: 'token_expired' });
  });

  it('answers `cached` only for the exact bytes already verified, and only until the entry ends', async () => {
    const v = verifier(1000);
    const t = await token(600);
    expect(v.cached(t)).toBeUndefined();
    const claims = await v.verify(t);
    expect(v.cached(t)).toBe(claims);
    expect(v.cached(`${t}x`)).toBeUndefined();
    jest.setSystemTime(T0 + 1000);
    expect(v.cached(t)).toBeUndefined();
  });

  it('with TTL 0 verifies every time', async () => {
    const v = verifier(0);
    const t = await token(600);
    expect(await v.verify(t)).not.toBe(await v.verify(t));
    expect(v.cached(t)).toBeUndefined();
  });
});

import { SupabaseTokenVerifier, TokenError } from '@neonpro/auth';
import { createTestDatabase, type TestDatabase } from '@neonpro/testing';
import { createClient } from '@supabase/supabase-js';
import { base64url, generateKeyPair, SignJWT } from 'jose';
import { type AuthEmulator, startAuthEmulator } from '../../../tools/auth-emulator/emulator.mjs';

const SECRET = 'test-legacy-jwt-secret-with-at-least-32-chars';

describe('Supabase token verification against the dev auth emulator (supabase-js, real Postgres)', () => {
  let tdb: TestDatabase;
  let emu: AuthEmulator;
  let verifier: SupabaseTokenVerifier;
  let session: { access_token: string; refresh_token: string; user: { id: string } };

  const supabase = () =>
    createClient(emu.url, 'anon-key', { auth: { persistSession: false, autoRefreshToken: false } });

  const hs256 = (claims: Record<string, unknown>, opts: { aud?: string; exp?: number; iss?: string } = {}) =>
    new SignJWT({ role: 'authenticated', ...claims })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(session.user.id)
      .setIssuer(opts.iss ?? emu.issuer)
      .setAudience(opts.aud ?? 'authenticated')
      .setIssuedAt()
      .setExpirationTime(opts.exp ?? Math.floor(Date.now() / 1000) + 600)
      .sign(new TextEncoder().encode(SECRET));

  const rejects = async (token: string, code = 'unauthorized') => {
    await expect(verifier.verify(token)).rejects.toMatchObject({ name: 'TokenError', code });
  };

  beforeAll(async () => {
    tdb = await createTestDatabase({ seed: true });
    emu = await startAuthEmulator({ port: 0, databaseUrl: tdb.url });
    verifier = new SupabaseTokenVerifier({ supabaseUrl: emu.url, jwtSecret: SECRET });
    const { data, error } = await supabase().auth.signInWithPassword({
      email: 'admin@aurora.demo',
      password: 'neonpro-demo',
    });
    expect(error).toBeNull();
    session = data.session!;
  });

  afterAll(async () => {
    await emu?.close();
    await tdb?.drop();
  });

  it('logs in with supabase-js: a Supabase-shaped ES256 token with kid, claims and a refresh token', async () => {
    const [h = '', p = ''] = session.access_token.split('.');
    expect(JSON.parse(Buffer.from(h, 'base64url').toString())).toEqual({ alg: 'ES256', kid: emu.kid, typ: 'JWT' });
    expect(JSON.parse(Buffer.from(p, 'base64url').toString())).toMatchObject({
      sub: session.user.id,
      aud: 'authenticated',
      role: 'authenticated',
      email: 'admin@aurora.demo',
      iss: emu.issuer,
      session_id: expect.any(String),
      exp: expect.any(Number),
      iat: expect.any(Number),
    });
    const { data: user } = await createClient(emu.url, 'anon-key', {
      auth: { persistSession: false, autoRefreshToken: false },
    }).auth.getUser(session.access_token);
    expect(user.user?.email).toBe('admin@aurora.demo');
  });

  it('refreshes with supabase-js (rotating the refresh token) and refuses wrong passwords', async () => {
    const { data, error } = await supabase().auth.refreshSession({ refresh_token: session.refresh_token });
    expect(error).toBeNull();
    expect(data.session?.refresh_token).not.toBe(session.refresh_token);
    const reuse = await supabase().auth.refreshSession({ refresh_token: session.refresh_token });
    expect(reuse.error?.status).toBe(400);
    session = { ...session, ...data.session! };
    const bad = await supabase().auth.signInWithPassword({ email: 'admin@aurora.demo', password: 'wrong' });
    expect(bad.error).toMatchObject({ status: 400, code: 'invalid_credentials' });
  });

  it('accepts a valid ES256 token through the JWKS and a valid HS256 token through the secret', async () => {
    expect(await verifier.verify(session.access_token)).toMatchObject({ sub: session.user.id, aud: 'authenticated' });
    expect(await verifier.verify(await hs256({ email: 'x@y.z' }))).toMatchObject({ sub: session.user.id });
  });

  it('rejects expired, wrong audience, wrong issuer, alg none, tampered and unknown-kid tokens', async () => {
    await rejects(await hs256({}, { exp: Math.floor(Date.now() / 1000) - 60 }), 'token_expired');
    await rejects(await hs256({}, { aud: 'anon' }));
    await rejects(await hs256({}, { iss: 'https://evil.example/auth/v1' }));
    const [h, p, s] = session.access_token.split('.') as [string, string, string];
    const none = `${base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${p}.`;
    await rejects(none);
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const forged = base64url.encode(JSON.stringify({ ...payload, sub: '00000000-0000-0000-0000-000000000000' }));
    await rejects(`${h}.${forged}.${s}`);
    await rejects(`${h}.${p}.${s.slice(0, -4)}AAAA`);
    const other = await generateKeyPair('ES256');
    const unknownKid = await new SignJWT({ role: 'authenticated' })
      .setProtectedHeader({ alg: 'ES256', kid: 'not-a-known-kid', typ: 'JWT' })
      .setSubject(session.user.id)
      .setIssuer(emu.issuer)
      .setAudience('authenticated')
      .setExpirationTime('5m')
      .sign(other.privateKey);
    await rejects(unknownKid);
    await rejects('not.a.jwt');
    // HS256 is refused when no secret is configured (no key confusion with the JWKS).
    const noSecret = new SupabaseTokenVerifier({ supabaseUrl: emu.url });
    await expect(noSecret.verify(await hs256({}))).rejects.toBeInstanceOf(TokenError);
  });
});

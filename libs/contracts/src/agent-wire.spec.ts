import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { importJWK, type JWK, jwtVerify, SignJWT } from 'jose';
import { agentWire } from './agent-wire.js';
import {
  DEV_RUN_GRANT_PRIVATE_JWK,
  DEV_RUN_GRANT_PUBLIC_JWK,
  importGrantKey,
  RUN_GRANT_AUDIENCE,
  RUN_GRANT_ISSUER,
  RunGrantError,
  signRunGrant,
  verifyRunGrant,
} from './run-grant.js';
import { agentBus } from './subjects.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('agent bus names', () => {
  it('uses the fixed names without a prefix, and namespaces subjects and streams with one', () => {
    expect(agentBus()).toMatchObject({
      runsStream: 'AGENT_RUNS',
      eventsStream: 'AGENT_EVENTS',
      consumer: 'ai-agents',
      runsSubjects: 'agent.runs.>',
      chat: 'agent.runs.chat',
      eventsSubjects: 'agent.events.>',
      cancel: 'agent.cancel',
    });
    const bus = agentBus('it-1.x');
    expect(bus.runsStream).toBe('AGENT_RUNS_it-1_x');
    expect(bus.events('m')).toBe('it-1.x.agent.events.m');
  });
});

describe('agentWire', () => {
  const request = { session_id: randomUUID(), message_id: randomUUID(), message: 'oi' };

  it('round-trips run requests and events', () => {
    expect(agentWire.decodeRunRequest(agentWire.encodeRunRequest(request))).toEqual({ ok: true, value: request });
    const ev = { type: 'token' as const, delta: 'Olá', seq: 3 };
    expect(agentWire.decodeEvent(agentWire.encodeEvent(ev))).toEqual({ ok: true, value: ev });
  });

  it('refuses what breaks the contract, naming the fields, never throwing', () => {
    expect(agentWire.decodeRunRequest(enc('{nope'))).toEqual({
      ok: false,
      error: expect.stringContaining('not valid JSON'),
    });
    const bad = agentWire.decodeRunRequest(enc(JSON.stringify({ ...request, message: 42, extra: 1 })));
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.error).toContain('message');
    }
    expect(agentWire.decodeEvent(enc(JSON.stringify({ type: 'token', delta: 'x' }))).ok).toBe(false); // no seq
    expect(agentWire.decodeEvent(enc(JSON.stringify({ type: 'token', delta: 'x', seq: -1 }))).ok).toBe(false);
    expect(agentWire.decodeCancel(enc(JSON.stringify({ message_id: 'x' }))).ok).toBe(false);
  });
});

describe('run grant', () => {
  const run = { messageId: randomUUID(), sessionId: randomUUID(), message: 'quais consultas temos hoje?' };
  const userId = randomUUID();

  it('verifies a grant for exactly its run and returns the user', () => {
    const grant = signRunGrant(importGrantKey(DEV_RUN_GRANT_PRIVATE_JWK, 'sign'), { userId, ...run }, 600);
    const pub = importGrantKey(DEV_RUN_GRANT_PUBLIC_JWK, 'verify');
    expect(verifyRunGrant(pub, grant, run)).toMatchObject({ userId });
  });

  it('is a standard compact JWS: a JOSE library verifies it, and it verifies a JOSE-signed grant', async () => {
    const now = Math.floor(Date.now() / 1000);
    const ours = signRunGrant(importGrantKey(DEV_RUN_GRANT_PRIVATE_JWK, 'sign'), { userId, ...run }, 600);
    const joseKey = await importJWK(JSON.parse(DEV_RUN_GRANT_PUBLIC_JWK) as JWK, 'EdDSA');
    const { payload } = await jwtVerify(ours, joseKey, {
      issuer: RUN_GRANT_ISSUER,
      audience: RUN_GRANT_AUDIENCE,
      algorithms: ['EdDSA'],
      typ: 'neonpro-run+jwt',
    });
    expect(payload).toMatchObject({ sub: userId, mid: run.messageId, sid: run.sessionId });
    expect(payload.exp! - now).toBeGreaterThanOrEqual(599);
    const theirs = await new SignJWT({ mid: run.messageId, sid: run.sessionId, msh: payload.msh })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'neonpro-run+jwt' })
      .setIssuer(RUN_GRANT_ISSUER)
      .setAudience(RUN_GRANT_AUDIENCE)
      .setSubject(userId)
      .setIssuedAt()
      .setExpirationTime(now + 60)
      .sign(await importJWK(JSON.parse(DEV_RUN_GRANT_PRIVATE_JWK) as JWK, 'EdDSA'));
    expect(verifyRunGrant(importGrantKey(DEV_RUN_GRANT_PUBLIC_JWK, 'verify'), theirs, run)).toEqual({
      userId,
      exp: now + 60,
    });
  });

  it('refuses a missing, forged, altered, replayed, expired or re-headed grant', () => {
    const signKey = importGrantKey(DEV_RUN_GRANT_PRIVATE_JWK, 'sign');
    const pub = importGrantKey(DEV_RUN_GRANT_PUBLIC_JWK, 'verify');
    const grant = signRunGrant(signKey, { userId, ...run }, 600);
    const other = importGrantKey(
      JSON.stringify(generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' })),
      'sign',
    );
    const forged = signRunGrant(other, { userId, ...run }, 600);
    const [h, p = '', sig] = grant.split('.');
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const altered = [h, Buffer.from(JSON.stringify({ ...payload, sub: randomUUID() })).toString('base64url'), sig].join(
      '.',
    );
    const expired = signRunGrant(signKey, { userId, ...run }, -10);
    // The same claims and signature under another header (alg "none", another type): refused
    // before the signature is looked at, whatever it says.
    const reheaded = (header: object) => [Buffer.from(JSON.stringify(header)).toString('base64url'), p, sig].join('.');
    const unsigned = [h, p, ''].join('.');
    const extraPart = `${grant}.x`;
    const cases: [string | undefined, string][] = [
      [undefined, 'no grant'],
      ['x.y.z', 'not a run grant'],
      [forged, 'bad signature'],
      [altered, 'bad signature'],
      [unsigned, 'bad signature'],
      [extraPart, 'not a run grant'],
      [reheaded({ alg: 'none', typ: 'neonpro-run+jwt' }), 'not a run grant'],
      [reheaded({ alg: 'EdDSA', typ: 'JWT' }), 'not a run grant'],
      [expired, 'expired'],
    ];
    for (const [g, reason] of cases) {
      expect(() => verifyRunGrant(pub, g, run)).toThrow(RunGrantError);
      expect(() => verifyRunGrant(pub, g, run)).toThrow(reason);
    }
    // A correctly signed token whose claims are not a grant's (here: no message binding).
    const claimsOnly = Buffer.from(JSON.stringify({ ...payload, mid: undefined })).toString('base64url');
    const badClaims = `${h}.${claimsOnly}.${sign(null, Buffer.from(`${h}.${claimsOnly}`), signKey).toString('base64url')}`;
    expect(() => verifyRunGrant(pub, badClaims, run)).toThrow('bad claims');
    // Replayed for another message, session or text.
    expect(() => verifyRunGrant(pub, grant, { ...run, messageId: randomUUID() })).toThrow('another run');
    expect(() => verifyRunGrant(pub, grant, { ...run, sessionId: randomUUID() })).toThrow('another run');
    expect(() => verifyRunGrant(pub, grant, { ...run, message: 'mostre os CPFs' })).toThrow('another run');
  });

  it('never lets a verifier sign, and rejects non-Ed25519 keys', () => {
    expect(() => importGrantKey(DEV_RUN_GRANT_PUBLIC_JWK, 'sign')).toThrow('private');
    expect(() => importGrantKey('{"kty":"oct","k":"abc"}', 'verify')).toThrow('Ed25519');
    expect(() => importGrantKey('{"kty":"OKP","crv":"Ed25519","x":"AAAA"}', 'verify')).toThrow('not a valid');
    // A full key handed to a verifier yields its public half only.
    expect(importGrantKey(DEV_RUN_GRANT_PRIVATE_JWK, 'verify').type).toBe('public');
  });
});

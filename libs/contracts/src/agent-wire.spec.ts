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
    // The same claims and signature under another header (alg "none", another type), with no
    // signature, or with a part too many.
    const reheaded = (header: object) => [Buffer.from(JSON.stringify(header)).toString('base64url'), p, sig].join('.');
    const others = [
      reheaded({ alg: 'none', typ: 'neonpro-run+jwt' }),
      reheaded({ alg: 'EdDSA', typ: 'JWT' }),
      [h, p, ''].join('.'),
      `${grant}.x`,
    ];
    for (const g of [undefined, 'x.y.z', forged, altered, expired, ...others]) {
      expect(() => verifyRunGrant(pub, g, run)).toThrow(RunGrantError);
    }
    // Replayed for another message, session or text.
    expect(() => verifyRunGrant(pub, grant, { ...run, messageId: randomUUID() })).toThrow('another run');
    expect(() => verifyRunGrant(pub, grant, { ...run, sessionId: randomUUID() })).toThrow('another run');
    expect(() => verifyRunGrant(pub, grant, { ...run, message: 'mostre os CPFs' })).toThrow('another run');
  });

  it('refuses a signed grant with another header, not valid yet, or without a claim the run check needs', () => {
    const signKey = importGrantKey(DEV_RUN_GRANT_PRIVATE_JWK, 'sign');
    const pub = importGrantKey(DEV_RUN_GRANT_PUBLIC_JWK, 'verify');
    const [h = '', p = ''] = signRunGrant(signKey, { userId, ...run }, 600).split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>;
    // Correctly signed by the gateway's key, so only the claim or header check can refuse them.
    const signed = (hdr: object, body: object): string => {
      const input = [hdr, body].map((o) => Buffer.from(JSON.stringify(o)).toString('base64url')).join('.');
      return `${input}.${sign(null, Buffer.from(input), signKey).toString('base64url')}`;
    };
    expect(verifyRunGrant(pub, signed(header, claims), run)).toMatchObject({ userId });
    const { mid: _mid, ...noMid } = claims;
    for (const [g, reason] of [
      [signed(header, { ...claims, nbf: Math.floor(Date.now() / 1000) + 60 }), 'not valid yet'],
      [signed(header, { ...claims, iat: 'now' }), 'not valid yet'],
      [signed({ ...header, crit: ['exp'] }, claims), 'header'],
      [signed({ ...header, typ: 'JWT' }, claims), 'header'],
      [signed({ ...header, alg: 'ES256' }, claims), 'header'],
      [signed(header, { ...claims, aud: [RUN_GRANT_AUDIENCE, 'other'] }), 'audience'],
      [signed(header, { ...claims, iss: 'someone-else' }), 'issuer'],
      [signed(header, noMid), 'missing claims'],
      [signed(header, { ...claims, exp: Math.floor(Date.now() / 1000) }), 'expired'],
    ] as const) {
      expect(() => verifyRunGrant(pub, g, run)).toThrow(reason);
    }
  });

  it('is the JWS jose signs and verifies, so a rollout may mix releases', async () => {
    const joseSign = await importJWK(JSON.parse(DEV_RUN_GRANT_PRIVATE_JWK) as JWK, 'EdDSA');
    const josePub = await importJWK(JSON.parse(DEV_RUN_GRANT_PUBLIC_JWK) as JWK, 'EdDSA');
    const ours = signRunGrant(importGrantKey(DEV_RUN_GRANT_PRIVATE_JWK, 'sign'), { userId, ...run }, 600);
    const { payload, protectedHeader } = await jwtVerify(ours, josePub, {
      issuer: RUN_GRANT_ISSUER,
      audience: RUN_GRANT_AUDIENCE,
      algorithms: ['EdDSA'],
      typ: 'neonpro-run+jwt',
      requiredClaims: ['sub', 'exp', 'iat', 'mid', 'sid', 'msh'],
    });
    expect(protectedHeader).toEqual({ alg: 'EdDSA', typ: 'neonpro-run+jwt' });
    expect(payload).toMatchObject({ sub: userId, mid: run.messageId, sid: run.sessionId });
    // The previous release's grant, as jose built it.
    const theirs = await new SignJWT({ mid: run.messageId, sid: run.sessionId, msh: payload.msh })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'neonpro-run+jwt' })
      .setIssuer(RUN_GRANT_ISSUER)
      .setAudience(RUN_GRANT_AUDIENCE)
      .setSubject(userId)
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(joseSign);
    expect(verifyRunGrant(importGrantKey(DEV_RUN_GRANT_PUBLIC_JWK, 'verify'), theirs, run)).toMatchObject({ userId });
  });

  it('never lets a verifier sign, and rejects non-Ed25519 keys', () => {
    expect(() => importGrantKey(DEV_RUN_GRANT_PUBLIC_JWK, 'sign')).toThrow('private');
    expect(() => importGrantKey('{"kty":"oct","k":"abc"}', 'verify')).toThrow('Ed25519');
  });
});

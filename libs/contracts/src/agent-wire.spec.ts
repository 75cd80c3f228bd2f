import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { agentWire } from './agent-wire.js';
import {
  DEV_RUN_GRANT_PRIVATE_JWK,
  DEV_RUN_GRANT_PUBLIC_JWK,
  importGrantKey,
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

  it('verifies a grant for exactly its run and returns the user', async () => {
    const grant = await signRunGrant(await importGrantKey(DEV_RUN_GRANT_PRIVATE_JWK, 'sign'), { userId, ...run }, 600);
    const pub = await importGrantKey(DEV_RUN_GRANT_PUBLIC_JWK, 'verify');
    await expect(verifyRunGrant(pub, grant, run)).resolves.toMatchObject({ userId });
  });

  it('refuses a missing, forged, altered, replayed, expired or re-headed grant', async () => {
    const signKey = await importGrantKey(DEV_RUN_GRANT_PRIVATE_JWK, 'sign');
    const pub = await importGrantKey(DEV_RUN_GRANT_PUBLIC_JWK, 'verify');
    const grant = await signRunGrant(signKey, { userId, ...run }, 600);
    const other = await importGrantKey(
      JSON.stringify(generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' })),
      'sign',
    );
    const forged = await signRunGrant(other, { userId, ...run }, 600);
    const [h, p = '', sig] = grant.split('.');
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const altered = [h, Buffer.from(JSON.stringify({ ...payload, sub: randomUUID() })).toString('base64url'), sig].join(
      '.',
    );
    const expired = await signRunGrant(signKey, { userId, ...run }, -10);
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
      await expect(verifyRunGrant(pub, g, run)).rejects.toBeInstanceOf(RunGrantError);
    }
    // Replayed for another message, session or text.
    await expect(verifyRunGrant(pub, grant, { ...run, messageId: randomUUID() })).rejects.toThrow('another run');
    await expect(verifyRunGrant(pub, grant, { ...run, sessionId: randomUUID() })).rejects.toThrow('another run');
    await expect(verifyRunGrant(pub, grant, { ...run, message: 'mostre os CPFs' })).rejects.toThrow('another run');
  });

  it('never lets a verifier sign, and rejects non-Ed25519 keys', async () => {
    await expect(importGrantKey(DEV_RUN_GRANT_PUBLIC_JWK, 'sign')).rejects.toThrow('private');
    await expect(importGrantKey('{"kty":"oct","k":"abc"}', 'verify')).rejects.toThrow('Ed25519');
  });
});

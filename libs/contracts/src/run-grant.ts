import { createHash } from 'node:crypto';
import { type CryptoKey, type JWK, importJWK, type KeyObject, SignJWT, jwtVerify } from 'jose';

/**
 * The run grant: the gateway's proof to the agents of who asked for a run. A compact JWS
 * (EdDSA / Ed25519) signed with a key only the gateway holds; agents hold the public key only,
 * so nothing on the bus can forge or alter one. It is bound to the run's `message_id`,
 * `session_id`, the user and a hash of the message text, and it expires after the run's
 * deadline (queue wait and every redelivery included). Clinic and role are NOT in it: the
 * agent reads them from the database.
 */
export const RUN_GRANT_ISSUER = 'neonpro-gateway';
export const RUN_GRANT_AUDIENCE = 'neonpro-ai-agent';
const ALG = 'EdDSA';

/**
 * Development key pair: `npm start` and the tests use it when no key is configured; production
 * refuses it (libs/config). Never use it anywhere reachable.
 */
export const DEV_RUN_GRANT_PRIVATE_JWK =
  '{"crv":"Ed25519","d":"tGj9TwVdqpPn9vn2nImlO6s_7phc4mvZ2wNGxkyyyy4","x":"HgmNpv3LNxHhQGiSgm0sV8xMdWocSjcek89WUAQUUqY","kty":"OKP"}';
export const DEV_RUN_GRANT_PUBLIC_JWK =
  '{"crv":"Ed25519","x":"HgmNpv3LNxHhQGiSgm0sV8xMdWocSjcek89WUAQUUqY","kty":"OKP"}';

export type GrantKey = CryptoKey | KeyObject;

export interface RunGrantSubject {
  userId: string;
  messageId: string;
  sessionId: string;
  message: string;
}

export class RunGrantError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'RunGrantError';
  }
}

/** Imports an Ed25519 key given as a JWK (JSON text). */
export async function importGrantKey(jwkJson: string, use: 'sign' | 'verify'): Promise<GrantKey> {
  let jwk: JWK;
  try {
    jwk = JSON.parse(jwkJson) as JWK;
  } catch {
    throw new RunGrantError('the grant key is not JSON');
  }
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519') {
    throw new RunGrantError('the grant key must be an Ed25519 JWK');
  }
  if (use === 'sign' && !jwk.d) {
    throw new RunGrantError('the grant signing key has no private part');
  }
  // A verifier is given the public part only, even if a full key was pasted by mistake.
  const material = use === 'verify' ? { kty: jwk.kty, crv: jwk.crv, x: jwk.x } : jwk;
  const key = await importJWK(material, ALG);
  if (key instanceof Uint8Array) {
    throw new RunGrantError('the grant key must be asymmetric');
  }
  return key;
}

function messageHash(message: string): string {
  return createHash('sha256').update(message).digest('base64url');
}

export async function signRunGrant(key: GrantKey, s: RunGrantSubject, ttlSeconds: number): Promise<string> {
  return new SignJWT({ mid: s.messageId, sid: s.sessionId, msh: messageHash(s.message) })
    .setProtectedHeader({ alg: ALG, typ: 'neonpro-run+jwt' })
    .setIssuer(RUN_GRANT_ISSUER)
    .setAudience(RUN_GRANT_AUDIENCE)
    .setSubject(s.userId)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(key);
}

/**
 * Verifies signature, issuer, audience, expiry and that the grant is for exactly this run.
 * Returns the user id and the expiry (seconds). Throws {@link RunGrantError} otherwise.
 */
export async function verifyRunGrant(
  key: GrantKey,
  token: string | undefined,
  run: Omit<RunGrantSubject, 'userId'>,
): Promise<{ userId: string; exp: number }> {
  if (!token) {
    throw new RunGrantError('no grant');
  }
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, key, {
      issuer: RUN_GRANT_ISSUER,
      audience: RUN_GRANT_AUDIENCE,
      algorithms: [ALG],
      typ: 'neonpro-run+jwt',
      requiredClaims: ['sub', 'exp', 'mid', 'sid', 'msh'],
    }));
  } catch (err) {
    throw new RunGrantError(err instanceof Error ? `invalid grant: ${err.name}` : 'invalid grant');
  }
  if (payload.mid !== run.messageId || payload.sid !== run.sessionId || payload.msh !== messageHash(run.message)) {
    throw new RunGrantError('the grant is for another run');
  }
  return { userId: String(payload.sub), exp: Number(payload.exp) };
}

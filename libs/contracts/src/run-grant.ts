import {
  createHash,
  createPrivateKey,
  createPublicKey,
  type JsonWebKey,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';

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
const TYP = 'neonpro-run+jwt';
/** The protected header every grant carries, encoded once. */
const HEADER = Buffer.from(JSON.stringify({ alg: ALG, typ: TYP })).toString('base64url');

/**
 * Development key pair: `npm start` and the tests use it when no key is configured; production
 * refuses it (libs/config). Never use it anywhere reachable.
 */
export const DEV_RUN_GRANT_PRIVATE_JWK =
  '{"crv":"Ed25519","d":"tGj9TwVdqpPn9vn2nImlO6s_7phc4mvZ2wNGxkyyyy4","x":"HgmNpv3LNxHhQGiSgm0sV8xMdWocSjcek89WUAQUUqY","kty":"OKP"}';
export const DEV_RUN_GRANT_PUBLIC_JWK =
  '{"crv":"Ed25519","x":"HgmNpv3LNxHhQGiSgm0sV8xMdWocSjcek89WUAQUUqY","kty":"OKP"}';

/**
 * A node:crypto key. Grants are signed and verified with node:crypto directly, synchronously:
 * through jose (WebCrypto) a verification cost 270–320 µs of CPU and a signing about 50, against
 * 130–155 and 37 here, most of the difference in WebCrypto's job hand-off to the thread pool
 * (docs/performance.md, chat, "Fifteenth pass"). The format is the same compact JWS, so either
 * side may still be on jose during a rollout.
 */
export type GrantKey = KeyObject;

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
export function importGrantKey(jwkJson: string, use: 'sign' | 'verify'): GrantKey {
  let jwk: JsonWebKey;
  try {
    jwk = JSON.parse(jwkJson) as JsonWebKey;
  } catch {
    throw new RunGrantError('the grant key is not JSON');
  }
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519') {
    throw new RunGrantError('the grant key must be an Ed25519 JWK');
  }
  if (use === 'sign' && !jwk.d) {
    throw new RunGrantError('the grant signing key has no private part');
  }
  try {
    // A verifier is given the public part only, even if a full key was pasted by mistake.
    return use === 'verify'
      ? createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: 'jwk' })
      : createPrivateKey({ key: jwk, format: 'jwk' });
  } catch {
    throw new RunGrantError('the grant key is not a valid Ed25519 JWK');
  }
}

function messageHash(message: string): string {
  return createHash('sha256').update(message).digest('base64url');
}

export function signRunGrant(key: GrantKey, s: RunGrantSubject, ttlSeconds: number): string {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    mid: s.messageId,
    sid: s.sessionId,
    msh: messageHash(s.message),
    iss: RUN_GRANT_ISSUER,
    aud: RUN_GRANT_AUDIENCE,
    sub: s.userId,
    iat: now,
    exp: now + ttlSeconds,
  };
  const input = `${HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${input}.${sign(null, Buffer.from(input), key).toString('base64url')}`;
}

/**
 * Verifies signature, issuer, audience, expiry and that the grant is for exactly this run.
 * Returns the user id and the expiry (seconds). Throws {@link RunGrantError} otherwise.
 */
export function verifyRunGrant(
  key: GrantKey,
  token: string | undefined,
  run: Omit<RunGrantSubject, 'userId'>,
): { userId: string; exp: number } {
  if (!token) {
    throw new RunGrantError('no grant');
  }
  const payload = verifiedClaims(key, token);
  if (payload.mid !== run.messageId || payload.sid !== run.sessionId || payload.msh !== messageHash(run.message)) {
    throw new RunGrantError('the grant is for another run');
  }
  return { userId: payload.sub, exp: payload.exp };
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * The claims of a grant whose header is exactly ours (EdDSA, our type, nothing critical), whose
 * Ed25519 signature `key` verifies, and whose issuer, audience and expiry hold, with every claim
 * the run check needs present; anything else is a RunGrantError naming the first check that failed.
 */
function verifiedClaims(
  key: GrantKey,
  token: string,
): { sub: string; exp: number; mid: unknown; sid: unknown; msh: unknown } {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => BASE64URL.test(p))) {
    throw new RunGrantError('invalid grant: malformed');
  }
  const [h, p, sig] = parts as [string, string, string];
  const header = parseJson(h);
  if (header?.alg !== ALG || header.typ !== TYP || 'crit' in header) {
    throw new RunGrantError('invalid grant: unexpected header');
  }
  if (!signatureHolds(key, `${h}.${p}`, sig)) {
    throw new RunGrantError('invalid grant: signature');
  }
  const c = parseJson(p);
  if (c?.iss !== RUN_GRANT_ISSUER || c.aud !== RUN_GRANT_AUDIENCE) {
    throw new RunGrantError('invalid grant: issuer or audience');
  }
  if (typeof c.sub !== 'string' || !c.sub || typeof c.exp !== 'number' || !('mid' in c && 'sid' in c && 'msh' in c)) {
    throw new RunGrantError('invalid grant: missing claims');
  }
  // Whole seconds and no clock tolerance, as jose counts them: expired at `exp` itself.
  const now = Math.floor(Date.now() / 1000);
  if (c.exp <= now) {
    throw new RunGrantError('invalid grant: expired');
  }
  if (('iat' in c && typeof c.iat !== 'number') || ('nbf' in c && (typeof c.nbf !== 'number' || c.nbf > now))) {
    throw new RunGrantError('invalid grant: not valid yet');
  }
  return { sub: c.sub, exp: c.exp, mid: c.mid, sid: c.sid, msh: c.msh };
}

function signatureHolds(key: GrantKey, input: string, sig: string): boolean {
  try {
    return verify(null, Buffer.from(input), key, Buffer.from(sig, 'base64url'));
  } catch {
    // A key of another type, or a signature node:crypto cannot read.
    return false;
  }
}

/** A base64url JSON object, or undefined for anything else. */
function parseJson(part: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

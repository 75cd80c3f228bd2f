import { createHash, createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { z } from 'zod';

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

/** An Ed25519 private key (gateway, signs) or public key (agents, verify). */
export type GrantKey = KeyObject;

/**
 * The one header a grant may carry: a verifier accepts exactly this, byte for byte, so no
 * algorithm, key id or type is ever taken from the token. Signing and verifying are node:crypto's
 * synchronous Ed25519: 48 and 80 µs of CPU here, against 130 and 192 µs through jose's WebCrypto
 * path, paid once per chat turn by the gateway and by the agent (docs/performance.md).
 */
const HEADER = Buffer.from(JSON.stringify({ alg: ALG, typ: 'neonpro-run+jwt' })).toString('base64url');
const ED25519_SIGNATURE_BYTES = 64;

const grantClaims = z.object({
  iss: z.literal(RUN_GRANT_ISSUER),
  aud: z.literal(RUN_GRANT_AUDIENCE),
  sub: z.string().min(1),
  iat: z.number().int(),
  exp: z.number().int(),
  mid: z.string(),
  sid: z.string(),
  msh: z.string(),
});

const b64url = (text: string): string => Buffer.from(text).toString('base64url');

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

interface Ed25519Jwk {
  kty?: unknown;
  crv?: unknown;
  x?: unknown;
  d?: unknown;
}

/** Imports an Ed25519 key given as a JWK (JSON text). */
export function importGrantKey(jwkJson: string, use: 'sign' | 'verify'): GrantKey {
  let jwk: Ed25519Jwk;
  try {
    jwk = JSON.parse(jwkJson) as Ed25519Jwk;
  } catch {
    throw new RunGrantError('the grant key is not JSON');
  }
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') {
    throw new RunGrantError('the grant key must be an Ed25519 JWK');
  }
  if (use === 'sign' && typeof jwk.d !== 'string') {
    throw new RunGrantError('the grant signing key has no private part');
  }
  try {
    // A verifier is given the public part only, even if a full key was pasted by mistake.
    return use === 'verify'
      ? createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, format: 'jwk' })
      : createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x, d: jwk.d as string }, format: 'jwk' });
  } catch {
    throw new RunGrantError('the grant key is not a valid Ed25519 JWK');
  }
}

function messageHash(message: string): string {
  return createHash('sha256').update(message).digest('base64url');
}

/** A compact JWS (EdDSA) over the run's claims, valid for `ttlSeconds`. */
export function signRunGrant(key: GrantKey, s: RunGrantSubject, ttlSeconds: number): string {
  const iat = Math.floor(Date.now() / 1000);
  const payload = b64url(
    JSON.stringify({
      mid: s.messageId,
      sid: s.sessionId,
      msh: messageHash(s.message),
      iss: RUN_GRANT_ISSUER,
      aud: RUN_GRANT_AUDIENCE,
      sub: s.userId,
      iat,
      exp: iat + ttlSeconds,
    }),
  );
  const input = `${HEADER}.${payload}`;
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
  const parts = token.split('.');
  const [header, payload = '', signature = ''] = parts;
  if (parts.length !== 3 || header !== HEADER) {
    throw new RunGrantError('invalid grant: not a run grant');
  }
  const sig = Buffer.from(signature, 'base64url');
  if (sig.length !== ED25519_SIGNATURE_BYTES || !verify(null, Buffer.from(`${header}.${payload}`), key, sig)) {
    throw new RunGrantError('invalid grant: bad signature');
  }
  let claims: z.infer<typeof grantClaims>;
  try {
    claims = grantClaims.parse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
  } catch {
    throw new RunGrantError('invalid grant: bad claims');
  }
  if (claims.exp <= Math.floor(Date.now() / 1000)) {
    throw new RunGrantError('invalid grant: expired');
  }
  if (claims.mid !== run.messageId || claims.sid !== run.sessionId || claims.msh !== messageHash(run.message)) {
    throw new RunGrantError('the grant is for another run');
  }
  return { userId: claims.sub, exp: claims.exp };
}

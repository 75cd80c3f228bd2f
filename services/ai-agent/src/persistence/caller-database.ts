import type { AgentCallerClaims } from '@neonpro/contracts';
import type { Database, JwtClaims, Queryable, Repositories, UserTxOptions } from '@neonpro/database';
import { currentClientRequestId, currentRequestId } from './request-context.js';

/**
 * Runs `fn` in one transaction as the caller: their verified JWT claims become
 * `request.jwt.claims`, so Postgres RLS confines every statement to their clinic and the
 * audit rows name them and the gateway's request id.
 */
export function asCaller<T>(
  db: Database,
  caller: AgentCallerClaims,
  fn: (repos: Repositories, tx: Queryable) => Promise<T>,
): Promise<T> {
  return asUser(db, callerRaw(caller), fn);
}

/** The caller's raw JWT claims, checked against the caller they were resolved for. */
export function callerRaw(caller: AgentCallerClaims): AgentCallerClaims['raw'] {
  // The gateway derives both from the same verified token; a mismatch means a forged header.
  if (caller.raw.sub !== caller.sub) {
    throw new Error('caller claims do not match their raw JWT claims');
  }
  return caller.raw;
}

/** `asCaller` for a verified user whose clinic and role are not known yet (RLS needs only the claims). */
export function asUser<T>(
  db: Database,
  raw: AgentCallerClaims['raw'],
  fn: (repos: Repositories, tx: Queryable) => Promise<T>,
): Promise<T> {
  return db.withUser(raw as JwtClaims, fn, {
    requestId: currentRequestId(),
    clientRequestId: currentClientRequestId(),
  });
}

/**
 * `asUser` for a transaction of one statement, answered in one round trip with its preamble and
 * commit (`Database.withUserStatement`: `issue` sends its statement before its first await).
 */
export function asUserStatement<T>(
  db: Database,
  raw: AgentCallerClaims['raw'],
  issue: (repos: Repositories) => Promise<T>,
  opts: Pick<UserTxOptions, 'asynchronousCommit'> = {},
): Promise<T> {
  return db.withUserStatement(raw as JwtClaims, issue, {
    requestId: currentRequestId(),
    clientRequestId: currentClientRequestId(),
    ...opts,
  });
}

/** `asCaller` for a transaction of one statement (see `asUserStatement`). */
export function asCallerStatement<T>(
  db: Database,
  caller: AgentCallerClaims,
  issue: (repos: Repositories) => Promise<T>,
): Promise<T> {
  return asUserStatement(db, callerRaw(caller), issue);
}

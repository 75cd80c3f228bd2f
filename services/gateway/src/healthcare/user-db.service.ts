import { Inject, Injectable } from '@nestjs/common';
import { ErrorCode } from '@neonpro/contracts';
import {
  ConflictError,
  Database,
  ForbiddenError,
  InvalidCursorError,
  NotFoundError,
  pgCode,
  type Repositories,
} from '@neonpro/database';
import { PolicyRegistry, UpstreamTimeoutError, UpstreamUnavailableError } from '@neonpro/resilience';
import type { FastifyRequest } from 'fastify';
import '../auth/auth.types.js';
import { auditIdsOf } from '../common/audit-request-id.js';
import { ProblemException } from '../common/problem.js';
import { isPostgresFailure, POSTGRES_POLICY } from '../resilience/gateway-policies.js';

/**
 * Runs repository calls as the authenticated caller (RLS applies), with the gateway's own
 * request id recorded in audit rows (the client's kept as a detail), and turns data errors into
 * problems.
 */
@Injectable()
export class UserDb {
  constructor(
    @Inject(Database) private readonly db: Database,
    private readonly policies: PolicyRegistry,
  ) {}

  /**
   * Under the `postgres` policy: reads are retried (a failed transaction rolled back its audit
   * row too, so a retry audits exactly once); writes are not.
   */
  async run<T>(req: FastifyRequest, fn: (repos: Repositories) => Promise<T>): Promise<T> {
    const claims = req.claims;
    if (!claims) throw new ProblemException(401, ErrorCode.Unauthorized, 'Authentication is required.');
    try {
      return await this.policies
        .get(POSTGRES_POLICY)
        .execute(() => this.db.withUser(claims, (repos) => fn(repos), auditIdsOf(req)), {
          retry: req.method === 'GET' || req.method === 'HEAD',
        });
    } catch (err) {
      throw toProblem(err);
    }
  }
}

export function toProblem(err: unknown): unknown {
  if (err instanceof ProblemException) return err;
  const pgDown = databaseUnavailable(err);
  if (pgDown) return pgDown;
  if (err instanceof NotFoundError) return new ProblemException(404, ErrorCode.NotFound, capitalise(err.message) + '.');
  if (err instanceof ForbiddenError)
    return new ProblemException(403, ErrorCode.Forbidden, capitalise(err.message) + '.');
  if (err instanceof ConflictError) return new ProblemException(409, err.code, capitalise(err.message) + '.');
  if (err instanceof InvalidCursorError)
    return ProblemException.badRequest('The query is invalid.', [{ field: 'cursor', message: err.message }]);
  // Values that passed validation but Postgres still refuses (e.g. out-of-range dates).
  const code = pgCode(err);
  if (code === '22007' || code === '22008' || code === '22P02' || code === '23514')
    return ProblemException.badRequest('A value in the request is out of range.');
  if (code === '42501') return new ProblemException(403, ErrorCode.Forbidden, 'Not allowed.');
  return err;
}

/** Postgres unreachable, breaker open or too slow: a fast 503, never a 500 or a hang. */
export function databaseUnavailable(err: unknown): ProblemException | undefined {
  if (err instanceof UpstreamUnavailableError)
    return new ProblemException(503, ErrorCode.UpstreamUnavailable, 'The database is unavailable; retry.', {
      retryAfter: Math.max(1, Math.ceil(err.retryAfterMs / 1000)),
    });
  if (err instanceof UpstreamTimeoutError || isPostgresFailure(err))
    return new ProblemException(503, ErrorCode.UpstreamUnavailable, 'The database is unavailable; retry.', {
      retryAfter: 2,
    });
  return undefined;
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

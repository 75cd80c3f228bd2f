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
import type { FastifyRequest } from 'fastify';
import '../auth/auth.types.js';
import { ProblemException } from '../common/problem.js';

/**
 * Runs repository calls as the authenticated caller (RLS applies), with the request id recorded
 * in audit rows, and turns data errors into problems.
 */
@Injectable()
export class UserDb {
  constructor(@Inject(Database) private readonly db: Database) {}

  async run<T>(req: FastifyRequest, fn: (repos: Repositories) => Promise<T>): Promise<T> {
    if (!req.claims) throw new ProblemException(401, ErrorCode.Unauthorized, 'Authentication is required.');
    try {
      return await this.db.withUser(req.claims, (repos) => fn(repos), { requestId: String(req.id) });
    } catch (err) {
      throw toProblem(err);
    }
  }
}

export function toProblem(err: unknown): unknown {
  if (err instanceof ProblemException) return err;
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

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

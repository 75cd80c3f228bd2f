import { ErrorCode } from '@neonpro/contracts';
import { ConflictError, ForbiddenError, InvalidCursorError, NotFoundError, pgCode } from '@neonpro/database';
import { ProblemException } from './problem.js';
import { databaseUnavailable } from './upstream-problem.js';

/** Data errors as problems: 404/403/409/400 for what the caller did, 503 when Postgres is down. */
export function databaseErrorToProblem(err: unknown): unknown {
  if (err instanceof ProblemException) {
    return err;
  }
  const pgDown = databaseUnavailable(err);
  if (pgDown) {
    return pgDown;
  }
  if (err instanceof NotFoundError) {
    return new ProblemException(404, ErrorCode.NotFound, capitalise(err.message) + '.');
  }
  if (err instanceof ForbiddenError) {
    return new ProblemException(403, ErrorCode.Forbidden, capitalise(err.message) + '.');
  }
  if (err instanceof ConflictError) {
    return new ProblemException(409, err.code, capitalise(err.message) + '.');
  }
  if (err instanceof InvalidCursorError) {
    return ProblemException.badRequest('The query is invalid.', [{ field: 'cursor', message: err.message }]);
  }
  // Values that passed validation but Postgres still refuses (e.g. out-of-range dates).
  const code = pgCode(err);
  if (code === '22007' || code === '22008' || code === '22P02' || code === '23514') {
    return ProblemException.badRequest('A value in the request is out of range.');
  }
  if (code === '42501') {
    return new ProblemException(403, ErrorCode.Forbidden, 'Not allowed.');
  }
  return err;
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

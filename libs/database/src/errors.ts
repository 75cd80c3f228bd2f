/** Domain errors raised by repositories; the gateway maps them to problem+json. */
export class DataError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Missing, or belonging to another clinic: the two are indistinguishable on purpose. */
export class NotFoundError extends DataError {
  constructor(what: string) {
    super('not_found', `${what} not found`);
  }
}

export class ConflictError extends DataError {}

export class ForbiddenError extends DataError {
  constructor(message: string) {
    super('forbidden', message);
  }
}

interface PgError {
  code?: string;
  constraint?: string;
}

export function pgCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null ? (err as PgError).code : undefined;
}

export function pgConstraint(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null ? (err as PgError).constraint : undefined;
}

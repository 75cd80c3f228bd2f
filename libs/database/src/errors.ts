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

const PG_TRANSIENT_CODES = /^(08|53|57P0|58)/; // connection, resources, shutdown, system errors
const NET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

/** Postgres unreachable, restarting or overloaded; constraint violations and bad queries are not outages. */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) {
    return false;
  }
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (PG_TRANSIENT_CODES.test(code) || NET_CODES.has(code))) {
    return true;
  }
  return /Connection terminated|timeout exceeded when trying to connect|connection error and is not queryable/i.test(
    err.message,
  );
}

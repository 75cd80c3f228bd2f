import { randomUUID } from 'node:crypto';

export const REQUEST_ID_HEADER = 'x-request-id';
const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Reuses an upstream request id when it is safe to log, otherwise makes a new one. For hops
 * between our own services (gateway → agent); the gateway never keys anything on a client's id.
 */
export function resolveRequestId(incoming: unknown): string {
  const value: unknown = Array.isArray(incoming) ? (incoming as unknown[])[0] : incoming;
  return typeof value === 'string' && SAFE_ID.test(value) ? value : randomUUID();
}

/** The client's request id when it is safe to echo, log and keep as a detail; never a key. */
export function sanitizeClientRequestId(incoming: unknown): string | undefined {
  const value: unknown = Array.isArray(incoming) ? (incoming as unknown[])[0] : incoming;
  return typeof value === 'string' && SAFE_ID.test(value) ? value : undefined;
}

import { randomUUID } from 'node:crypto';
import { REQUEST_ID_HEADER, sanitizeClientRequestId } from '@neonpro/observability';
import type { FastifyRequest } from 'fastify';

const ids = new WeakMap<object, string>();

/**
 * The request id stored in audit rows: generated here, once per request, never the client's
 * X-Request-Id (which a user could point at another request). The client's id, when safe,
 * stays an audit detail (`client_request_id`) and is still echoed and logged as before.
 */
export function auditIdsOf(req: FastifyRequest): { requestId: string; clientRequestId?: string } {
  let requestId = ids.get(req);
  if (!requestId) {
    requestId = randomUUID();
    ids.set(req, requestId);
  }
  return { requestId, clientRequestId: sanitizeClientRequestId(req.headers[REQUEST_ID_HEADER]) };
}

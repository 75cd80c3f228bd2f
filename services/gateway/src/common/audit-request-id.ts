import { REQUEST_ID_HEADER, sanitizeClientRequestId } from '@neonpro/observability';
import type { FastifyRequest } from 'fastify';

/**
 * The ids of a request for audit rows and the agent: `requestId` is the gateway's own (Fastify's
 * req.id, always generated here), never the client's X-Request-Id, which a user could point at
 * another request; the client's, when safe, is kept as `client_request_id`.
 */
export function auditIdsOf(req: FastifyRequest): { requestId: string; clientRequestId?: string } {
  return { requestId: String(req.id), clientRequestId: sanitizeClientRequestId(req.headers[REQUEST_ID_HEADER]) };
}

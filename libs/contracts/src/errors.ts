/**
 * Stable machine-readable error codes shared by the gateway (HTTP, SSE, Socket.IO) and the
 * agents (NATS error events). Messages may be localised; codes never change.
 */
export const ErrorCode = {
  InvalidRequest: 'invalid_request',
  InvalidPayload: 'invalid_payload',
  InvalidMessage: 'invalid_message',
  Unauthorized: 'unauthorized',
  Forbidden: 'forbidden',
  NotFound: 'not_found',
  Conflict: 'conflict',
  RateLimited: 'rate_limited',
  /** The clinic spent its monthly AI token budget (429 with Retry-After until the month turns). */
  QuotaExceeded: 'quota_exceeded',
  TooManyConnections: 'too_many_connections',
  PayloadTooLarge: 'payload_too_large',
  UnsupportedMediaType: 'unsupported_media_type',
  NotAcceptable: 'not_acceptable',
  AgentUnavailable: 'agent_unavailable',
  AgentTimeout: 'agent_timeout',
  AgentOverloaded: 'agent_overloaded',
  AgentFailed: 'agent_failed',
  Cancelled: 'cancelled',
  UpstreamUnavailable: 'upstream_unavailable',
  ShuttingDown: 'shutting_down',
  Internal: 'internal_error',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

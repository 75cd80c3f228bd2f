/**
 * Stable machine-readable error codes shared by the gateway (HTTP, SSE, Socket.IO) and the
 * agents (NATS error events). Messages may be localised; codes never change.
 */
export const ErrorCode = {
  InvalidRequest: 'invalid_request',
  InvalidPayload: 'invalid_payload',
  InvalidMessage: 'invalid_message',
  Unauthorized: 'unauthorized',
  TokenExpired: 'token_expired',
  InvalidCredentials: 'invalid_credentials',
  InvalidRefreshToken: 'invalid_refresh_token',
  Forbidden: 'forbidden',
  NotFound: 'not_found',
  Conflict: 'conflict',
  PatientExists: 'patient_exists',
  PatientAnonymized: 'patient_anonymized',
  AppointmentConflict: 'appointment_conflict',
  IdempotencyConflict: 'idempotency_conflict',
  InvalidAppointment: 'invalid_appointment',
  MethodNotAllowed: 'method_not_allowed',
  RateLimited: 'rate_limited',
  /** The clinic spent its monthly AI token budget (429 with Retry-After until the month turns). */
  QuotaExceeded: 'quota_exceeded',
  TooManyConnections: 'too_many_connections',
  PayloadTooLarge: 'payload_too_large',
  /** The client did not send its whole request within the server's request timeout (408). */
  RequestTimeout: 'request_timeout',
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

/** Every code, for documents and clients (the `code` enum of the OpenAPI `Problem` schema, the AsyncAPI errors). */
export const ERROR_CODES = Object.values(ErrorCode) as [ErrorCode, ...ErrorCode[]];

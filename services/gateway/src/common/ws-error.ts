import { HttpException } from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import { ErrorCode } from '@neonpro/contracts';
import { ProblemException } from './problem.js';

export interface WsErrorPayload {
  code: string;
  message: string;
  request_id?: string;
  /** Seconds; present when retrying later may succeed (rate limit, upstream unavailable). */
  retry_after?: number;
}

const STATUS_CODES: Record<number, string> = {
  400: ErrorCode.InvalidRequest,
  401: ErrorCode.Unauthorized,
  403: ErrorCode.Forbidden,
  404: ErrorCode.NotFound,
  409: ErrorCode.Conflict,
  429: ErrorCode.RateLimited,
  503: ErrorCode.UpstreamUnavailable,
};

/** Maps anything thrown in a gateway handler to the `{code, message}` payload clients see. */
export function toWsError(exception: unknown): { payload: WsErrorPayload; internal: boolean } {
  if (exception instanceof ProblemException) {
    const retry = exception.problemOptions.retryAfter;
    return {
      payload: {
        code: exception.code,
        message: exception.detail,
        ...(retry !== undefined ? { retry_after: Math.max(1, Math.ceil(retry)) } : {}),
      },
      internal: exception.getStatus() >= 500,
    };
  }
  if (exception instanceof WsException) {
    const e = exception.getError();
    if (typeof e === 'string') {
      return { payload: { code: ErrorCode.InvalidRequest, message: e }, internal: false };
    }
    const o = e as { code?: unknown; message?: unknown };
    return {
      payload: {
        code: typeof o.code === 'string' ? o.code : ErrorCode.InvalidRequest,
        message: typeof o.message === 'string' ? o.message : 'The request was rejected.',
      },
      internal: false,
    };
  }
  if (exception instanceof HttpException && exception.getStatus() < 500) {
    const status = exception.getStatus();
    return {
      payload: { code: STATUS_CODES[status] ?? ErrorCode.InvalidRequest, message: exception.message },
      internal: false,
    };
  }
  return {
    payload: {
      code: ErrorCode.Internal,
      message: 'An unexpected error occurred. Quote the request id when reporting it.',
    },
    internal: true,
  };
}

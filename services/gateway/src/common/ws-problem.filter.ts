import { type ArgumentsHost, Catch, HttpException, Inject, type WsExceptionFilter } from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import { ErrorCode } from '@neonpro/contracts';
import { maskPii } from '@neonpro/observability';
import { PinoLogger } from 'nestjs-pino';
import { ProblemException } from './problem.js';

/** Event name of error payloads on the socket (Nest's convention for WS errors). */
export const WS_ERROR_EVENT = 'exception';

export interface WsErrorPayload {
  code: string;
  message: string;
  request_id?: string;
  /** Seconds; present when retrying later may succeed (rate limit, upstream unavailable). */
  retry_after?: number;
}

interface EmittingClient {
  id?: string;
  emit(event: string, payload: unknown): unknown;
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
    if (typeof e === 'string') return { payload: { code: ErrorCode.InvalidRequest, message: e }, internal: false };
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

/**
 * The WebSocket counterpart of ProblemFilter: every error becomes an `exception` event with a
 * stable `code` and a safe message; internal failures are logged (redacted), never sent.
 */
@Catch()
export class WsProblemFilter implements WsExceptionFilter {
  constructor(@Inject(PinoLogger) private readonly logger: PinoLogger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'ws') return;
    const client = host.switchToWs().getClient<EmittingClient>();
    const data: unknown = host.switchToWs().getData();
    const requestId =
      data && typeof data === 'object' && typeof (data as { request_id?: unknown }).request_id === 'string'
        ? (data as { request_id: string }).request_id
        : client.id;
    const { payload, internal } = toWsError(exception);
    if (requestId) payload.request_id = requestId;
    if (internal) {
      const err = exception instanceof Error ? exception : undefined;
      this.logger.error(
        {
          request_id: requestId,
          code: payload.code,
          err_name: err?.name,
          err_message: err ? maskPii(err.message) : undefined,
          // The stack starts with the message, so it is masked too.
          stack: err?.stack ? maskPii(err.stack) : undefined,
        },
        'socket event failed',
      );
    }
    client.emit(WS_ERROR_EVENT, payload);
  }
}

import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Inject } from '@nestjs/common';
import { ErrorCode } from '@neonpro/contracts';
import { maskPii } from '@neonpro/observability';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PinoLogger } from 'nestjs-pino';
import { type ProblemBody, ProblemException, problemTitle, problemType } from './problem.js';

const DEFAULT_CODES: Record<number, string> = {
  400: ErrorCode.InvalidRequest,
  401: ErrorCode.Unauthorized,
  403: ErrorCode.Forbidden,
  404: ErrorCode.NotFound,
  405: ErrorCode.MethodNotAllowed,
  406: ErrorCode.NotAcceptable,
  409: ErrorCode.Conflict,
  413: ErrorCode.PayloadTooLarge,
  415: ErrorCode.UnsupportedMediaType,
  429: ErrorCode.RateLimited,
  503: ErrorCode.UpstreamUnavailable,
};

/** Maps Fastify's own client errors (bad JSON or URL, too large, wrong content type) to problems. */
export function fastifyErrorToProblem(err: { statusCode?: number; code?: string }): ProblemException | undefined {
  const status = err.statusCode;
  if (!status || status < 400 || status >= 500) {
    return undefined;
  }
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ProblemException(400, ErrorCode.InvalidRequest, 'The request body is not valid JSON.');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ProblemException(413, ErrorCode.PayloadTooLarge, 'The request body is too large.');
    // The router's own refusals, before any hook (GatewayFastifyAdapter).
    case 'FST_ERR_BAD_URL':
      return new ProblemException(400, ErrorCode.InvalidRequest, 'The request URL could not be decoded.');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new ProblemException(414, ErrorCode.InvalidRequest, 'A path segment of the request URL is too long.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ProblemException(415, ErrorCode.UnsupportedMediaType, 'Send the body as application/json.');
    default:
      return new ProblemException(status, DEFAULT_CODES[status] ?? ErrorCode.InvalidRequest, problemTitle(status));
  }
}

/**
 * Maps what Node's HTTP parser refuses before a request exists (`clientError`): headers over the
 * size limit, a request not received within the request timeout, bytes that are not HTTP.
 */
export function parserErrorToProblem(code: string | undefined): ProblemException {
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new ProblemException(408, ErrorCode.RequestTimeout, 'The request was not received in time.');
    case 'HPE_HEADER_OVERFLOW':
      return new ProblemException(431, ErrorCode.InvalidRequest, 'The request headers are too large.');
    default:
      return new ProblemException(400, ErrorCode.InvalidRequest, 'The request is not valid HTTP.');
  }
}

export function buildProblem(
  exception: unknown,
  req: FastifyRequest,
): { body: ProblemBody; headers: Record<string, string> } {
  let ex: ProblemException | undefined;
  if (exception instanceof ProblemException) {
    ex = exception;
  } else if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const detail = status >= 500 ? problemTitle(status) : safeDetail(exception);
    ex = new ProblemException(
      status,
      DEFAULT_CODES[status] ?? (status >= 500 ? ErrorCode.Internal : ErrorCode.InvalidRequest),
      detail,
    );
  } else {
    ex = fastifyErrorToProblem(exception as { statusCode?: number; code?: string });
  }
  ex ??= new ProblemException(
    500,
    ErrorCode.Internal,
    'An unexpected error occurred. Quote the request id when reporting it.',
  );
  return renderProblem(ex, (req.url ?? '/').split('?')[0] ?? '/', String(req.id));
}

/** The one wire form of a problem: its RFC 9457 body and the headers it asks for. */
export function renderProblem(
  ex: ProblemException,
  instance: string,
  requestId: string,
): { body: ProblemBody; headers: Record<string, string> } {
  const status = ex.getStatus();
  const body: ProblemBody = {
    type: problemType(ex.code),
    title: problemTitle(status),
    status,
    detail: ex.detail,
    instance,
    code: ex.code,
    request_id: requestId,
    ...(ex.problemOptions.errors ? { errors: ex.problemOptions.errors } : {}),
    ...(ex.problemOptions.extensions ?? {}),
  };
  const headers: Record<string, string> = { ...(ex.problemOptions.headers ?? {}) };
  if (ex.problemOptions.retryAfter !== undefined) {
    headers['Retry-After'] = String(Math.max(1, Math.ceil(ex.problemOptions.retryAfter)));
  }
  return { body, headers };
}

function safeDetail(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') {
    return response;
  }
  const message = (response as { message?: unknown }).message;
  if (typeof message === 'string') {
    return message;
  }
  if (Array.isArray(message)) {
    return message.join('; ');
  }
  return problemTitle(exception.getStatus());
}

/**
 * The one HTTP exception filter: every error leaves as RFC 9457 problem+json with a stable
 * code and the request id. Internal messages and stacks stay in the (redacted) logs.
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(@Inject(PinoLogger) private readonly logger: PinoLogger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') {
      return;
    }
    const ctx = host.switchToHttp();
    answerProblem(exception, ctx.getRequest<FastifyRequest>(), ctx.getResponse<FastifyReply>(), this.logger);
  }
}

/** What a problem's answer logs to: PinoLogger in Nest, pino itself at the edge. */
export interface ProblemLog {
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * Answers a failed request with its problem and logs it by kind: the filter's whole job, and how
 * the routes the edge answers itself (EdgeAnswers) fail.
 */
export function answerProblem(exception: unknown, req: FastifyRequest, reply: FastifyReply, logger: ProblemLog): void {
  const { body, headers } = buildProblem(exception, req);
  if (body.status >= 500) {
    const err = exception instanceof Error ? exception : undefined;
    if (exception instanceof ProblemException && body.code === ErrorCode.UpstreamUnavailable) {
      // A refusal (breaker open, bulkhead full, upstream down): the breaker's transition is
      // logged once and each refusal is counted in metrics and in the request line; a warning
      // per refused request would flood the logs exactly when the upstream is failing.
      logger.debug({ request_id: body.request_id, code: body.code, status: body.status }, 'request refused');
    } else if (exception instanceof ProblemException) {
      // A known upstream condition (agent timeout, shutting down): worth a warning, not a stack trace.
      logger.warn({ request_id: body.request_id, code: body.code, status: body.status }, 'request failed upstream');
    } else {
      logger.error(
        {
          request_id: body.request_id,
          code: body.code,
          err_name: err?.name,
          err_message: err ? maskPii(err.message) : undefined,
          stack: err?.stack ? maskPii(err.stack) : undefined,
        },
        'request failed',
      );
    }
  }
  sendProblem(reply, body, headers);
}

export function sendProblem(reply: FastifyReply, body: ProblemBody, headers: Record<string, string> = {}): void {
  if (reply.sent || reply.raw.headersSent) {
    return;
  }
  void reply
    .status(body.status)
    .headers(headers)
    .header('Content-Type', 'application/problem+json; charset=utf-8')
    .header('Cache-Control', 'no-store')
    .send(JSON.stringify(body));
}

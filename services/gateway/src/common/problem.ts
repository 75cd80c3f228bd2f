import { HttpException } from '@nestjs/common';
import { ErrorCode } from '@neonpro/contracts';

export interface ProblemFieldError {
  field: string;
  message: string;
  code?: string;
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: string;
  request_id: string;
  errors?: ProblemFieldError[];
  [extension: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function problemTitle(status: number): string {
  return TITLES[status] ?? (status >= 500 ? 'Server Error' : 'Client Error');
}

export function problemType(code: string): string {
  return `urn:neonpro:problem:${code}`;
}

export interface ProblemOptions {
  errors?: ProblemFieldError[];
  /** Seconds, sent as the Retry-After header. */
  retryAfter?: number;
  headers?: Record<string, string>;
  extensions?: Record<string, unknown>;
}

/** An error that is already a client-facing RFC 9457 problem with a stable code. */
export class ProblemException extends HttpException {
  constructor(
    status: number,
    readonly code: string,
    readonly detail: string,
    readonly problemOptions: ProblemOptions = {},
  ) {
    super(detail, status);
  }

  static badRequest(detail: string, errors?: ProblemFieldError[]): ProblemException {
    return new ProblemException(400, ErrorCode.InvalidRequest, detail, { errors });
  }
}

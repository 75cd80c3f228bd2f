import type { components } from './generated/openapi.js';

export type Problem = components['schemas']['Problem'];
export type ErrorCode = Problem['code'];

/** A refused REST call: the gateway's problem+json, with its stable `code`. */
export class NeonProError extends Error {
  readonly status: number;
  /** Stable machine-readable code (`unauthorized`, `rate_limited`, …); branch on this. */
  readonly code: string;
  readonly problem?: Problem;
  /** Seconds, from `Retry-After`, when waiting helps. */
  readonly retryAfter?: number;

  constructor(status: number, problem: Problem | undefined, retryAfter?: number, code?: string) {
    super(problem?.detail ?? `HTTP ${status}`);
    this.name = 'NeonProError';
    this.status = status;
    this.code = code ?? problem?.code ?? (status >= 500 ? 'internal_error' : 'invalid_request');
    this.problem = problem;
    this.retryAfter = retryAfter;
  }
}

/** The stream dropped and could not be resumed (status 0: no HTTP answer to show). */
export function streamInterrupted(): NeonProError {
  const err = new NeonProError(0, undefined, undefined, 'stream_interrupted');
  err.message = 'The stream ended before the answer did.';
  return err;
}

/** A failed response and its (already parsed) problem body as a NeonProError. */
export function errorFrom(res: Response, problem: Problem | undefined): NeonProError {
  const retry = Number(res.headers.get('retry-after'));
  return new NeonProError(res.status, problem, Number.isFinite(retry) && retry > 0 ? retry : undefined);
}

/** Reads a failed response's problem body (if any) into a NeonProError. */
export async function problemError(res: Response): Promise<NeonProError> {
  let problem: Problem | undefined;
  try {
    problem = (await res.json()) as Problem;
  } catch {
    problem = undefined;
  }
  return errorFrom(res, problem);
}

import { type PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { ProblemException, type ProblemFieldError } from './problem.js';

export function zodIssuesToFieldErrors(issues: readonly z.core.$ZodIssue[]): ProblemFieldError[] {
  return issues.map((issue) => ({
    field: issue.path.length ? issue.path.map(String).join('.') : '(body)',
    message: issue.message,
    code: issue.code,
  }));
}

/** Validates a body, query or params object against a zod schema; failures become a 400 problem. */
export class ZodValidationPipe<S extends z.ZodType> implements PipeTransform<unknown, z.output<S>> {
  constructor(
    private readonly schema: S,
    private readonly what = 'request',
  ) {}

  transform(value: unknown): z.output<S> {
    const result = this.schema.safeParse(value ?? {});
    if (result.success) {
      return result.data;
    }
    throw ProblemException.badRequest(`The ${this.what} is invalid.`, zodIssuesToFieldErrors(result.error.issues));
  }
}

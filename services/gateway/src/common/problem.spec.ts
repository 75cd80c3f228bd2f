import { BadRequestException, NotFoundException } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { buildProblem, fastifyErrorToProblem } from './problem.filter.js';
import { ProblemException } from './problem.js';
import { ZodValidationPipe } from './zod-validation.pipe.js';

const req = { id: 'req-1', url: '/v1/x?secret=1' } as unknown as FastifyRequest;

describe('problem+json', () => {
  it('renders a ProblemException with every RFC 9457 member and Retry-After', () => {
    const { body, headers } = buildProblem(
      new ProblemException(503, 'agent_unavailable', 'No agent', { retryAfter: 2.2 }),
      req,
    );
    expect(body).toEqual({
      type: 'urn:neonpro:problem:agent_unavailable',
      title: 'Service Unavailable',
      status: 503,
      detail: 'No agent',
      instance: '/v1/x',
      code: 'agent_unavailable',
      request_id: 'req-1',
    });
    expect(headers['Retry-After']).toBe('3');
  });

  it('maps Nest HTTP exceptions to stable codes', () => {
    expect(buildProblem(new NotFoundException(), req).body.code).toBe('not_found');
    expect(buildProblem(new BadRequestException('x'), req).body).toMatchObject({
      status: 400,
      code: 'invalid_request',
    });
  });

  it('never leaks internal error messages', () => {
    const { body } = buildProblem(new Error('password=hunter2 at db.ts:12'), req);
    expect(body.status).toBe(500);
    expect(body.code).toBe('internal_error');
    expect(JSON.stringify(body)).not.toContain('hunter2');
  });

  it('maps Fastify client errors', () => {
    expect(fastifyErrorToProblem({ statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' })?.code).toBe(
      'payload_too_large',
    );
    expect(fastifyErrorToProblem({ statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' })?.code).toBe(
      'unsupported_media_type',
    );
    expect(fastifyErrorToProblem({ statusCode: 500 })).toBeUndefined();
  });

  it("maps the router's refusals to invalid_request with their status", () => {
    const badUrl = fastifyErrorToProblem({ statusCode: 400, code: 'FST_ERR_BAD_URL' });
    expect([badUrl?.getStatus(), badUrl?.code, badUrl?.detail]).toEqual([
      400,
      'invalid_request',
      'The request URL could not be decoded.',
    ]);
    const long = buildProblem(
      Object.assign(new URIError('x'), { statusCode: 414, code: 'FST_ERR_MAX_PARAM_LENGTH' }),
      req,
    );
    expect(long.body).toMatchObject({ status: 414, title: 'URI Too Long', code: 'invalid_request' });
  });
});

describe('ZodValidationPipe', () => {
  const pipe = new ZodValidationPipe(z.strictObject({ a: z.string(), b: z.number().optional() }), 'body');

  it('returns parsed data', () => {
    expect(pipe.transform({ a: 'x' })).toEqual({ a: 'x' });
  });

  it('throws a 400 problem naming each bad field', () => {
    try {
      pipe.transform({ a: 1, b: 'no', c: true });
      throw new Error('expected a throw');
    } catch (err) {
      expect(err).toBeInstanceOf(ProblemException);
      const p = err as ProblemException;
      expect(p.getStatus()).toBe(400);
      expect(p.problemOptions.errors?.map((e) => e.field).sort()).toEqual(['(body)', 'a', 'b']);
    }
  });

  it('treats a missing body as an empty object', () => {
    // Without the fallback, undefined fails a strictObject even when every field is optional.
    const optional = new ZodValidationPipe(z.strictObject({ b: z.number().optional() }), 'body');
    expect(optional.transform(undefined)).toEqual({});
    expect(optional.transform(null)).toEqual({});
    expect(() => pipe.transform(undefined)).toThrow(ProblemException);
  });
});

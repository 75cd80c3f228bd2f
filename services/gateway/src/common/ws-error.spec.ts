import { BadRequestException, InternalServerErrorException } from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import { ProblemException } from './problem.js';
import { toWsError } from './ws-error.js';

// toWsError is what ChatGateway sends in every failed ack; these call it directly.
describe('toWsError', () => {
  it('keeps a ProblemException code and message, rounding Retry-After up to whole seconds', () => {
    expect(toWsError(new ProblemException(429, 'rate_limited', 'Slow down.', { retryAfter: 2.5 }))).toEqual({
      payload: { code: 'rate_limited', message: 'Slow down.', retry_after: 3 },
      internal: false,
    });
    expect(toWsError(new ProblemException(503, 'agent_unavailable', 'No agent.')).internal).toBe(true);
  });

  it('maps WsException and 4xx HttpException to stable codes', () => {
    expect(toWsError(new WsException({ code: 'invalid_message', message: 'bad' })).payload).toEqual({
      code: 'invalid_message',
      message: 'bad',
    });
    expect(toWsError(new WsException('plain')).payload).toEqual({ code: 'invalid_request', message: 'plain' });
    expect(toWsError(new BadRequestException('nope')).payload.code).toBe('invalid_request');
  });

  it('hides internal errors and 5xx HTTP errors behind internal_error', () => {
    for (const err of [new Error('db down for maria@example.com'), new InternalServerErrorException('secret')]) {
      const { payload, internal } = toWsError(err);
      expect(internal).toBe(true);
      expect(payload.code).toBe('internal_error');
      expect(JSON.stringify(payload)).not.toMatch(/maria|secret/);
    }
  });
});

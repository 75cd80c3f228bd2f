import { jest } from '@jest/globals';
import type { ArgumentsHost } from '@nestjs/common';
import { BadRequestException } from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import type { PinoLogger } from 'nestjs-pino';
import { ProblemException } from './problem.js';
import { WS_ERROR_EVENT, WsProblemFilter } from './ws-problem.filter.js';

function run(exception: unknown, data: unknown = {}) {
  const emit = jest.fn();
  const error = jest.fn();
  const filter = new WsProblemFilter({ error } as unknown as PinoLogger);
  const host = {
    getType: () => 'ws',
    switchToWs: () => ({ getClient: () => ({ id: 'sock-1', emit }), getData: () => data }),
  } as unknown as ArgumentsHost;
  filter.catch(exception, host);
  return { emit, error };
}

describe('WsProblemFilter', () => {
  it('emits {code, message} for a ProblemException, with retry_after and the request id', () => {
    const { emit, error } = run(new ProblemException(429, 'rate_limited', 'Slow down.', { retryAfter: 2.5 }), {
      request_id: 'r-9',
    });
    expect(emit).toHaveBeenCalledWith(WS_ERROR_EVENT, {
      code: 'rate_limited',
      message: 'Slow down.',
      retry_after: 3,
      request_id: 'r-9',
    });
    expect(error).not.toHaveBeenCalled();
  });

  it('maps WsException and 4xx HttpException to stable codes', () => {
    expect(run(new WsException({ code: 'invalid_message', message: 'bad' })).emit).toHaveBeenCalledWith(
      WS_ERROR_EVENT,
      { code: 'invalid_message', message: 'bad', request_id: 'sock-1' },
    );
    expect(run(new BadRequestException('nope')).emit.mock.calls[0]?.[1]).toMatchObject({ code: 'invalid_request' });
  });

  it('hides internal errors from the client and logs them redacted', () => {
    const { emit, error } = run(new Error('db down for maria@example.com'));
    const payload = emit.mock.calls[0]?.[1] as { code: string; message: string };
    expect(payload.code).toBe('internal_error');
    expect(JSON.stringify(payload)).not.toContain('maria');
    const logged = JSON.stringify(error.mock.calls[0]);
    expect(logged).toContain('[EMAIL]');
    expect(logged).not.toContain('maria@example.com');
  });

  it('ignores non-websocket hosts', () => {
    const emit = jest.fn();
    const filter = new WsProblemFilter({ error: jest.fn() } as unknown as PinoLogger);
    filter.catch(new Error('x'), { getType: () => 'http' } as unknown as ArgumentsHost);
    expect(emit).not.toHaveBeenCalled();
  });
});

import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { clientErrorHandler, clientErrorProblem, type RefusedBeforeRouting } from './client-errors.js';

/** The socket surface the handler uses, recording what it was given. */
function fakeSocket(state: { destroyed?: boolean; writable?: boolean } = {}) {
  const written: string[] = [];
  let destroyedWith: unknown;
  const socket = {
    destroyed: state.destroyed ?? false,
    writable: state.writable ?? true,
    write: (chunk: string) => written.push(chunk),
    destroy: (err: unknown) => {
      destroyedWith = err;
    },
  };
  return { socket: socket as unknown as Socket, written, destroyed: () => destroyedWith };
}

const parse = (raw: string) => {
  const [head = '', body = ''] = raw.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(
    lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
  );
  return { statusLine, headers, body: JSON.parse(body) as Record<string, unknown> };
};

describe('clientErrorProblem', () => {
  it.each([
    ['HPE_HEADER_OVERFLOW', 431, 'invalid_request'],
    ['ERR_HTTP_REQUEST_TIMEOUT', 408, 'request_timeout'],
    ['HPE_INVALID_METHOD', 400, 'invalid_request'],
    [undefined, 400, 'invalid_request'],
  ])('%s answers %i %s', (code, status, errorCode) => {
    expect(clientErrorProblem(code, 'id-1')).toMatchObject({
      status,
      code: errorCode,
      type: `urn:neonpro:problem:${errorCode}`,
      instance: 'urn:uuid:id-1',
      request_id: 'id-1',
    });
  });
});

describe('clientErrorHandler', () => {
  const nestHeaders = (_req: unknown, res: ServerResponse) => {
    res.setHeader('X-Frame-Options', 'DENY');
  };

  it('writes the problem with the security headers and closes the connection', () => {
    const seen: RefusedBeforeRouting[] = [];
    const handler = clientErrorHandler(
      () => nestHeaders,
      { 'Content-Security-Policy': "default-src 'self'" },
      (r) => seen.push(r),
    );
    const { socket, written, destroyed } = fakeSocket();
    const err = Object.assign(new Error('too big'), { code: 'HPE_HEADER_OVERFLOW' });
    handler(err, socket);
    expect(written).toHaveLength(1);
    const { statusLine, headers, body } = parse(written[0]!);
    expect(statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect(headers).toMatchObject({
      'content-type': 'application/problem+json; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'close',
      'x-frame-options': 'DENY',
      'content-security-policy': "default-src 'self'",
    });
    expect(Number(headers['content-length'])).toBe(Buffer.byteLength(JSON.stringify(body)));
    expect(body).toMatchObject({ status: 431, code: 'invalid_request', request_id: headers['x-request-id'] });
    expect(destroyed()).toBe(err);
    // What the metric and the request line get: the id the client was given, never its bytes.
    expect(seen).toEqual([
      { status: 431, code: 'invalid_request', requestId: headers['x-request-id'], reason: 'HPE_HEADER_OVERFLOW' },
    ]);
  });

  it('keeps our headers when the security hook throws', () => {
    const handler = clientErrorHandler(
      () => () => {
        throw new Error('needs a request');
      },
      { 'Permissions-Policy': 'camera=()' },
    );
    const { socket, written } = fakeSocket();
    handler(Object.assign(new Error('x'), { code: 'HPE_INVALID_METHOD' }), socket);
    expect(parse(written[0]!).headers['permissions-policy']).toBe('camera=()');
  });

  it('writes nothing to a reset, closed or unwritable connection, and counts only the refusal', () => {
    const counted: number[] = [];
    const handler = clientErrorHandler(
      () => undefined,
      {},
      (r) => counted.push(r.status),
    );
    const reset = fakeSocket();
    handler(Object.assign(new Error('reset'), { code: 'ECONNRESET' }), reset.socket);
    const closed = fakeSocket({ destroyed: true });
    handler(Object.assign(new Error('x'), { code: 'HPE_INVALID_METHOD' }), closed.socket);
    const unwritable = fakeSocket({ writable: false });
    handler(Object.assign(new Error('x'), { code: 'HPE_INVALID_METHOD' }), unwritable.socket);
    expect([reset.written, closed.written, unwritable.written]).toEqual([[], [], []]);
    expect(unwritable.destroyed()).toBeInstanceOf(Error);
    // A reset or closed connection is no refusal; an unwritable one was refused all the same.
    expect(counted).toEqual([400]);
  });
});

import { randomUUID } from 'node:crypto';
import { IncomingMessage, ServerResponse, STATUS_CODES } from 'node:http';
import { Socket } from 'node:net';
import type { FastifyRequest } from 'fastify';
import type { ProblemBody } from '../common/problem.js';
import { parserErrorToProblem, renderProblem } from '../common/problem.filter.js';

/** The request hook behind Nest's `useSecurityHeaders()`: writes its headers to a response. */
export type SecurityHeadersHook = (request: FastifyRequest, response: ServerResponse) => unknown;

/** What a connection error from Node's HTTP parser is answered with (no request was parsed). */
export function clientErrorProblem(code: string | undefined, requestId: string): ProblemBody {
  // No URL was parsed: the occurrence is named by its id.
  return renderProblem(parserErrorToProblem(code), `urn:uuid:${requestId}`, requestId).body;
}

/**
 * Fastify's `clientErrorHandler`: Node's parser refused the bytes (headers over the size limit,
 * not HTTP, or not received within `REQUEST_TIMEOUT_MS`) before any request object existed. Fastify's
 * default writes its own JSON with no other header; this writes the problem every other refusal
 * gets, with Nest's security headers (read once from the hook, through a throwaway response) and
 * ours. HSTS is left out: without a request the protocol is unknown.
 */
export function clientErrorHandler(
  securityHeaders: () => SecurityHeadersHook | undefined,
  ownHeaders: Record<string, string>,
  count: (status: number) => void = () => undefined,
): (err: Error & { code?: string }, socket: Socket) => void {
  let fixed: string | undefined;
  const headerLines = (): string => {
    if (fixed === undefined) {
      const res = new ServerResponse(new IncomingMessage(new Socket()));
      try {
        // Nest's headers part writes to the response only; the request is read by its CSRF check
        // alone, which the gateway does not enable (a throw from it leaves our headers only).
        securityHeaders()?.(res.req as unknown as FastifyRequest, res);
      } catch {
        // Answer with the headers that could be set.
      }
      for (const [name, value] of Object.entries(ownHeaders)) {
        res.setHeader(name, value);
      }
      fixed = Object.entries(res.getHeaders())
        .map(([name, value]) => `${name}: ${String(value)}\r\n`)
        .join('');
    }
    return fixed;
  };
  return (err, socket) => {
    // A reset connection has nothing left to answer.
    if (err.code === 'ECONNRESET' || socket.destroyed) {
      return;
    }
    const requestId = randomUUID();
    const problem = clientErrorProblem(err.code, requestId);
    count(problem.status);
    if (socket.writable) {
      const body = JSON.stringify(problem);
      socket.write(
        `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? ''}\r\n` +
          'Content-Type: application/problem+json; charset=utf-8\r\n' +
          `Content-Length: ${Buffer.byteLength(body)}\r\n` +
          'Cache-Control: no-store\r\n' +
          'Connection: close\r\n' +
          `X-Request-Id: ${requestId}\r\n` +
          headerLines() +
          '\r\n' +
          body,
      );
    }
    socket.destroy(err);
  };
}

import { randomUUID } from 'node:crypto';
import { IncomingMessage, ServerResponse, STATUS_CODES } from 'node:http';
import { Socket } from 'node:net';
import type { FastifyRequest } from 'fastify';
import type { ProblemBody } from '../common/problem.js';
import { parserErrorToProblem, renderProblem } from '../common/problem.filter.js';

/**
 * A request answered before Fastify routed it (the router's refusals, edge-headers.ts) or before a
 * request existed (Node's parser, here): what the metrics and the request line need of it. Never
 * its URL or headers: they are whatever the client sent.
 */
export interface RefusedBeforeRouting {
  status: number;
  /** The problem's stable code. */
  code: string;
  /** Our id, in the answer's body (and its X-Request-Id unless the client sent one). */
  requestId: string;
  /** Fastify's or Node's error code (`FST_ERR_BAD_URL`, `HPE_HEADER_OVERFLOW`, …). */
  reason?: string;
  method?: string;
  clientRequestId?: string;
}

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
  observe: (refusal: RefusedBeforeRouting) => void = () => undefined,
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
    observe({
      status: problem.status,
      code: problem.code,
      requestId,
      ...(err.code !== undefined ? { reason: err.code } : {}),
    });
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

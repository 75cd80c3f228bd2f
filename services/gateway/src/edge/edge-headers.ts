import type { IncomingMessage } from 'node:http';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { REQUEST_ID_HEADER, sanitizeClientRequestId } from '@neonpro/observability';
import type { FastifyError, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { buildProblem, sendProblem } from '../common/problem.filter.js';
import { clientErrorHandler, type RefusedBeforeRouting } from './client-errors.js';
import { forwardedProtocol, type TrustProxy } from './trust-proxy.js';

/** The design's Content-Security-Policy, sent verbatim (no inline scripts, no eval, no framing). */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'";
export const PERMISSIONS_POLICY =
  'camera=(), microphone=(), geolocation=(), payment=(), usb=(), bluetooth=(), serial=(), hid=(), ' +
  'magnetometer=(), gyroscope=(), accelerometer=(), midi=(), display-capture=(), interest-cohort=()';
export const HSTS = 'max-age=31536000; includeSubDomains; preload';

export function isApiPath(url: string): boolean {
  return url === '/v1' || url.startsWith('/v1/') || url.startsWith('/v1?');
}

/**
 * The headers the gateway adds to every response on top of Nest's security headers: the request
 * id, the exact CSP, the Permissions-Policy, HSTS over HTTPS and `no-store` on the API.
 */
export function setEdgeHeaders(req: FastifyRequest, reply: FastifyReply, https = req.protocol === 'https'): void {
  void reply.header('X-Request-Id', sanitizeClientRequestId(req.headers[REQUEST_ID_HEADER]) ?? String(req.id));
  void reply.header('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  void reply.header('Permissions-Policy', PERMISSIONS_POLICY);
  // req.protocol reads X-Forwarded-Proto only from a TRUST_PROXY peer.
  if (https) {
    void reply.header('Strict-Transport-Security', HSTS);
  }
  if (isApiPath(req.url)) {
    void reply.header('Cache-Control', 'no-store');
  }
}

type SecurityHook = Parameters<FastifyAdapter['registerSecurityHook']>[0];

/**
 * The Fastify adapter with the router's own errors answered like every other error. Fastify's
 * router refuses a URL it cannot decode (400) or a route parameter over its length limit (414)
 * before any hook runs, through `frameworkErrors`; Nest's default there writes its security
 * headers and Fastify's own JSON body, without the request id, our CSP and `no-store`. Here such a
 * request gets the same problem+json and headers as any other refused request; so do the bytes
 * Node's parser refuses before a request exists (`clientErrorHandler`, client-errors.ts).
 */
export class GatewayFastifyAdapter extends FastifyAdapter {
  private readonly routerErrors: RouterErrors;

  constructor(options: FastifyServerOptions & { trustProxy: TrustProxy }) {
    const routerErrors = new RouterErrors(forwardedProtocol(options.trustProxy));
    super({
      ...options,
      frameworkErrors: routerErrors.answer,
      clientErrorHandler: clientErrorHandler(
        () => routerErrors.securityHeaders,
        {
          'Content-Security-Policy': CONTENT_SECURITY_POLICY,
          'Permissions-Policy': PERMISSIONS_POLICY,
        },
        (refusal) => routerErrors.observe?.(refusal),
      ),
    });
    this.routerErrors = routerErrors;
  }

  /**
   * Sees each refusal (set once the metrics and the logger exist, after the adapter): Fastify runs
   * no route hook for them, so neither `http_requests_total` nor the request line sees them.
   */
  observeRefusals(observe: (refusal: RefusedBeforeRouting) => void): void {
    this.routerErrors.observe = observe;
  }

  override registerSecurityHook(hook: SecurityHook): void {
    this.routerErrors.securityHeaders = hook;
    super.registerSecurityHook(hook);
  }
}

class RouterErrors {
  securityHeaders?: SecurityHook;
  observe?: (refusal: RefusedBeforeRouting) => void;

  constructor(private readonly protocol: (req: IncomingMessage) => 'http' | 'https') {}

  readonly answer = (error: FastifyError, req: FastifyRequest, reply: FastifyReply): void => {
    try {
      // Headers only: CSRF protection is not enabled, and this request is refused anyway.
      this.securityHeaders?.(req, reply.raw);
    } catch {
      // A throw here would escape the router; the request is answered below either way.
    }
    // The router built this request without Fastify's trust-proxy class: its req.protocol would
    // ignore a trusted proxy's X-Forwarded-Proto.
    setEdgeHeaders(req, reply, this.protocol(req.raw) === 'https');
    const { body, headers } = buildProblem(error, req);
    this.observe?.({
      status: body.status,
      code: body.code,
      requestId: body.request_id,
      reason: error.code,
      method: req.method,
      clientRequestId: sanitizeClientRequestId(req.headers[REQUEST_ID_HEADER]),
    });
    sendProblem(reply, body, headers);
  };
}

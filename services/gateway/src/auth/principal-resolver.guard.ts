import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { bearerToken } from '@neonpro/auth';
import type { FastifyRequest } from 'fastify';
import { recordTiming } from '../common/server-timing.js';
import './auth.types.js';
import { Authenticator } from './authenticator.service.js';

/**
 * Sets the request's caller when its token and membership are both cached (timed as `auth`), with
 * no promise; false when they are not, and nothing was set. The guard below and the edge's
 * answered routes (EdgeAnswers) resolve a known caller through here.
 */
export function knownCaller(
  authenticator: Authenticator,
  req: FastifyRequest,
  token: string,
  started = performance.now(),
): boolean {
  const known = authenticator.cached(token);
  if (!known) {
    return false;
  }
  req.principal = known.principal;
  req.claims = known.claims;
  recordTiming(req, 'auth', performance.now() - started);
  return true;
}

/**
 * Global guard that runs before the rate limiter: when a request carries a valid bearer token it
 * sets `request.principal`, so limits count per user. It never rejects; routes that require a
 * user still use JwtAuthGuard, which reports the precise 401/403. Bad tokens are thus counted
 * per client IP.
 */
@Injectable()
export class PrincipalResolverGuard implements CanActivate {
  constructor(private readonly authenticator: Authenticator) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (context.getType() !== 'http') {
      return true;
    }
    const req = context.switchToHttp().getRequest<FastifyRequest>();
    const token = bearerToken(req.headers.authorization);
    if (!token || req.principal) {
      return true;
    }
    const started = performance.now();
    // Token and member both cached: no promise, so Nest does not await this guard.
    if (knownCaller(this.authenticator, req, token, started)) {
      return true;
    }
    return this.resolve(req, token, started);
  }

  private async resolve(req: FastifyRequest, token: string, started: number): Promise<boolean> {
    try {
      const { principal, claims } = await this.authenticator.authenticate(token);
      req.principal = principal;
      req.claims = claims;
    } catch (err) {
      // Reported by JwtAuthGuard on protected routes only.
      if (err instanceof Error) {
        req.authError = err;
      }
    } finally {
      recordTiming(req, 'auth', performance.now() - started);
    }
    return true;
  }
}

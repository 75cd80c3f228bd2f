import { type CanActivate, createParamDecorator, type ExecutionContext, Injectable } from '@nestjs/common';
import type { Principal } from '@neonpro/auth';
import { bearerToken } from '@neonpro/auth';
import type { FastifyRequest } from 'fastify';
import './auth.types.js';
import { Authenticator } from './authenticator.service.js';

/** Requires a valid Supabase access token; sets `request.principal` and `request.claims`. */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(private readonly authenticator: Authenticator) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const req = context.switchToHttp().getRequest<FastifyRequest>();
    // Already authenticated by the global PrincipalResolverGuard; a boolean is not awaited.
    if (req.principal && req.claims) {
      return true;
    }
    return this.authenticate(req);
  }

  private async authenticate(req: FastifyRequest): Promise<boolean> {
    if (req.authError !== undefined) {
      throw req.authError;
    }
    const { principal, claims } = await this.authenticator.authenticate(bearerToken(req.headers.authorization));
    req.principal = principal;
    req.claims = claims;
    return true;
  }
}

/** The authenticated caller (use on routes behind JwtAuthGuard). */
export const CurrentPrincipal = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => {
  const principal = ctx.switchToHttp().getRequest<FastifyRequest>().principal;
  if (!principal) {
    throw new Error('CurrentPrincipal used on a route without JwtAuthGuard');
  }
  return principal;
});

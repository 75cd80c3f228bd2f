import type { AgentCallerClaims } from '@neonpro/contracts';
import { ErrorCode } from '@neonpro/contracts';
import type { FastifyRequest } from 'fastify';
import { ProblemException } from '../common/problem.js';
import type { Authenticated } from './auth.types.js';
import './auth.types.js';

/** The verified caller, in the form the agents receive it (NATS header `x-neonpro-claims`). */
export function callerClaims(req: FastifyRequest): AgentCallerClaims {
  const { principal, claims } = req;
  if (!principal || !claims) {
    throw new ProblemException(401, ErrorCode.Unauthorized, 'Authentication is required.');
  }
  return callerClaimsOf({ principal, claims });
}

/** Same, from any transport's authentication result (HTTP request, socket handshake). */
export function callerClaimsOf({ principal, claims }: Authenticated): AgentCallerClaims {
  return {
    sub: principal.user_id,
    email: principal.email,
    clinic_id: principal.clinic_id,
    role: principal.role,
    raw: claims,
  };
}

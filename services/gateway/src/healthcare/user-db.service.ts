import { Inject, Injectable } from '@nestjs/common';
import { ErrorCode } from '@neonpro/contracts';
import { Database, type JwtClaims, type Repositories } from '@neonpro/database';
import { PolicyRegistry } from '@neonpro/resilience';
import type { FastifyRequest } from 'fastify';
import '../auth/auth.types.js';
import { auditIdsOf } from '../common/audit-request-id.js';
import { ProblemException } from '../common/problem.js';
import { POSTGRES_POLICY } from '../resilience/gateway-policies.js';
import { databaseErrorToProblem } from '../common/database-problem.js';

/**
 * Runs repository calls as the authenticated caller (RLS applies), with the gateway's own
 * request id recorded in audit rows (the client's kept as a detail), and turns data errors into
 * problems.
 */
@Injectable()
export class UserDb {
  constructor(
    @Inject(Database) private readonly db: Database,
    private readonly policies: PolicyRegistry,
  ) {}

  /**
   * Under the `postgres` policy: reads are retried (a failed transaction rolled back its audit
   * row too, so a retry audits exactly once); writes are not.
   */
  async run<T>(req: FastifyRequest, fn: (repos: Repositories) => Promise<T>): Promise<T> {
    return this.execute(req, (claims) => this.db.withUser(claims, fn, auditIdsOf(req)));
  }

  /**
   * `run` for a repository method that is one statement sent before its first await (such as
   * `patients.get`): preamble, statement and commit go out together and come back in one round
   * trip (`Database.withUserStatement`).
   */
  async runStatement<T>(req: FastifyRequest, fn: (repos: Repositories) => Promise<T>): Promise<T> {
    return this.execute(req, (claims) => this.db.withUserStatement(claims, fn, auditIdsOf(req)));
  }

  private async execute<T>(req: FastifyRequest, tx: (claims: JwtClaims) => Promise<T>): Promise<T> {
    const claims = req.claims;
    if (!claims) {
      throw new ProblemException(401, ErrorCode.Unauthorized, 'Authentication is required.');
    }
    try {
      return await this.policies.get(POSTGRES_POLICY).execute(() => tx(claims), {
        retry: req.method === 'GET' || req.method === 'HEAD',
      });
    } catch (err) {
      throw databaseErrorToProblem(err);
    }
  }
}

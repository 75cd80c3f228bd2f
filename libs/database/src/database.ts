import pg from 'pg';
import { createRepositories, type Repositories } from './repositories/index.js';

/** The verified Supabase JWT claims of the caller (at least `sub`). */
export interface JwtClaims {
  sub: string;
  role?: string;
  email?: string;
  [claim: string]: unknown;
}

export interface DatabaseOptions {
  url: string;
  poolMax?: number;
  /** Bound for a statement, so a stuck query cannot hold a pooled connection forever. */
  statementTimeoutMs?: number;
  applicationName?: string;
}

export interface UserTxOptions {
  /** Recorded in every audit row written inside the transaction. */
  requestId?: string;
}

import type { Queryable } from './queryable.js';

export type { Queryable };

/** ISO 8601 in UTC, keeping Postgres' microseconds (keyset cursors must round-trip exactly). */
export function timestamptzToIso(v: string): string {
  const iso = new Date(v).toISOString();
  const frac = /\d{2}:\d{2}:\d{2}\.(\d{4,6})/.exec(v)?.[1];
  return frac ? iso.replace(/\.\d{3}Z$/, `.${frac}Z`) : iso;
}

// timestamptz as ISO strings, date as YYYY-MM-DD: no JS Date timezone drift in payloads.
pg.types.setTypeParser(pg.types.builtins.TIMESTAMPTZ, timestamptzToIso);
pg.types.setTypeParser(pg.types.builtins.DATE, (v) => v);
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

/**
 * The pool and the two ways in: `withUser` (RLS applies, as PostgREST does it) and the explicit
 * `withService` path for migrations, seed and membership lookup. The few hot fixed-shape queries
 * are named prepared statements (`TxContext.prepared`); a pooler in transaction mode must support
 * them (Supavisor does; PgBouncer from 1.21 with max_prepared_statements).
 */
export class Database {
  readonly pool: pg.Pool;

  constructor(opts: DatabaseOptions) {
    this.pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolMax ?? 10,
      application_name: opts.applicationName ?? 'neonpro',
      statement_timeout: opts.statementTimeoutMs ?? 15000,
      idleTimeoutMillis: 30000,
      connectionTimeoutMillis: 5000,
    });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    this.pool.on('error', () => undefined);
    // Nor a checked-out one between two queries (Postgres restarting): pg emits 'error' on the
    // client then, with no listener but ours. Its next query fails instead, and the pool drops it.
    this.pool.on('connect', (client) => client.on('error', () => undefined));
  }

  /** Runs `fn` in one transaction as role `authenticated` with the caller's claims. */
  async withUser<T>(
    claims: JwtClaims,
    fn: (repos: Repositories, tx: Queryable) => Promise<T>,
    opts: UserTxOptions = {},
  ): Promise<T> {
    if (!claims?.sub) {
      throw new Error('withUser needs verified claims with a sub');
    }
    return this.transaction(async (client) => {
      await client.query("select set_config('request.jwt.claims', $1, true), set_config('app.request_id', $2, true)", [
        JSON.stringify(claims),
        opts.requestId ?? '',
      ]);
      await client.query('set local role authenticated');
      return fn(createRepositories(client), client);
    });
  }

  /**
   * Bypasses RLS as `service_role` (BYPASSRLS, no DDL), as on Supabase. Only for membership
   * resolution and the few paths that truly need it; migrations and seed use the pool's owner role.
   */
  async withService<T>(fn: (repos: Repositories, tx: Queryable) => Promise<T>): Promise<T> {
    return this.transaction(async (client) => {
      await client.query('set local role service_role');
      return fn(createRepositories(client), client);
    });
  }

  async ping(): Promise<void> {
    await this.pool.query('select 1');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      const result = await fn(client);
      await client.query('commit');
      return result;
    } catch (err) {
      await client.query('rollback').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
}

import pg from 'pg';
import { createRepositories, type Repositories } from './repositories/index.js';
import { timestamptzToIso } from './timestamps.js';

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
  /** The server's own request id, recorded as `request_id` in every audit row of the transaction. */
  requestId?: string;
  /** The client's X-Request-Id (already sanitised), kept in audit `details.client_request_id`. */
  clientRequestId?: string;
  /**
   * Commit without waiting for the WAL flush (`synchronous_commit = off` for this transaction).
   * Only for a transaction whose loss in a Postgres crash is harmless because something durable
   * comes after it: a later synchronous commit flushes the WAL up to its own record, this one's
   * included, and nothing is promised to anyone before that. Used by a chat turn's first
   * transaction, which the turn's answer (a synchronous commit) always follows before `done`,
   * and which a redelivered run redoes.
   */
  asynchronousCommit?: boolean;
}

import type { Queryable } from './queryable.js';

export type { Queryable };

export { timestamptzToIso };

// timestamptz as ISO strings, date as YYYY-MM-DD: no JS Date timezone drift in payloads.
pg.types.setTypeParser(pg.types.builtins.TIMESTAMPTZ, timestamptzToIso);
pg.types.setTypeParser(pg.types.builtins.DATE, (v) => v);
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

/**
 * A SQL string literal, the same text as pg's `escapeLiteral` (quotes doubled; with a backslash,
 * backslashes doubled and an `E` prefix), built with two regex replaces instead of pg's
 * character-by-character concatenation (17 KB of garbage per request for a claims object).
 */
export function sqlLiteral(s: string): string {
  const quoted = `'${s.replace(/'/g, "''")}'`;
  return s.includes('\\') ? ` E${quoted.replace(/\\/g, '\\\\')}` : quoted;
}

/**
 * The caller's part of the preamble per claims object: the verified-token cache hands the same
 * object (shared, never mutated) to every request with that token, so it is serialised and escaped
 * once per token. `request.jwt.claim.sub` is the setting `auth.uid()` reads first (as on Supabase):
 * without it every `auth.uid()` parses the whole claims JSON, which `jsonb_in` made 5.6 % of the
 * machine's CPU under the chat load (docs/performance.md, "Fifth pass").
 */
const callerSettings = new WeakMap<JwtClaims, string>();

function callerSettingsSql(claims: JwtClaims): string {
  let sql = callerSettings.get(claims);
  if (sql === undefined) {
    sql =
      `set local "request.jwt.claims" = ${sqlLiteral(JSON.stringify(claims))}; ` +
      `set local "request.jwt.claim.sub" = ${sqlLiteral(claims.sub)}`;
    callerSettings.set(claims, sql);
  }
  return sql;
}

/**
 * `begin`, the role, the caller's settings and the request ids: one simple-protocol batch of
 * `set local` statements. They are utility statements: Postgres plans nothing for them and answers
 * no row, where `select set_config(…)` was planned on every transaction and echoed the claims back
 * (13–14 µs less backend CPU per transaction; docs/performance.md, scenario 1, "Fifth pass").
 */
function userPreamble(claims: JwtClaims, opts: UserTxOptions): string {
  return (
    `begin; set local role authenticated; ${callerSettingsSql(claims)}; ` +
    `set local "app.request_id" = ${sqlLiteral(opts.requestId ?? '')}; ` +
    `set local "app.client_request_id" = ${sqlLiteral(opts.clientRequestId ?? '')}` +
    (opts.asynchronousCommit ? '; set local synchronous_commit = off' : '')
  );
}

/** A promise's failure as a value (undefined when it succeeded), so pipelined answers can be awaited in order. */
function settle(p: Promise<unknown>): Promise<{ err: unknown } | undefined> {
  return p.then(
    () => undefined,
    (err: unknown) => ({ err }),
  );
}

/**
 * The pool and its one way in for the services: `withUser` (RLS applies, as PostgREST does it).
 * The services log in as `neonpro_authenticator`, which can do nothing but `set role
 * authenticated`; migrations and seed use their own owner URL. The few hot fixed-shape queries are
 * named prepared statements (`TxContext.prepared`); a pooler in transaction mode must support them
 * (Supavisor does; PgBouncer from 1.21 with max_prepared_statements).
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
      // Queries are written without waiting for the previous answer (see `transaction`); each
      // still gets its own Sync, and the answers come back in order.
      pipeline: true,
    });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    this.pool.on('error', () => undefined);
    // Nor a checked-out one between two queries (Postgres restarting): pg emits 'error' on the
    // client then, with no listener but ours. Its next query fails instead, and the pool drops it.
    this.pool.on('connect', (client) => client.on('error', () => undefined));
  }

  /**
   * Runs `fn` in one transaction as role `authenticated` with the caller's claims, as PostgREST
   * does. `begin`, the role, the claims and the server-owned request id (read by `app.audit`)
   * travel in one round trip: a simple-protocol batch with escaped literals.
   */
  async withUser<T>(
    claims: JwtClaims,
    fn: (repos: Repositories, tx: Queryable) => Promise<T>,
    opts: UserTxOptions = {},
  ): Promise<T> {
    if (!claims?.sub) {
      throw new Error('withUser needs verified claims with a sub');
    }
    return this.transaction(() => userPreamble(claims, opts), fn);
  }

  /**
   * `withUser` for a transaction of exactly one statement: the preamble, the statement and `commit`
   * are written back to back and answered in one round trip. `issue` must send its one statement
   * before it first awaits (a repository method whose first step is its query does); a second
   * query, or none sent at once, is refused. What the statement did commits unless the statement
   * failed, whatever `issue` then makes of its answer: such a statement decides in SQL.
   */
  async withUserStatement<T>(
    claims: JwtClaims,
    issue: (repos: Repositories) => Promise<T>,
    opts: UserTxOptions = {},
  ): Promise<T> {
    if (!claims?.sub) {
      throw new Error('withUserStatement needs verified claims with a sub');
    }
    const client = await this.pool.connect();
    // The preamble, the statement and commit leave in one socket write (uncorked below).
    const socket = client.connection.stream;
    socket.cork();
    let corked = true;
    try {
      const begun = settle(client.query(userPreamble(claims, opts)));
      let sent = 0;
      let open = true;
      const once: Queryable = {
        // pg's `query` has a dozen overloads; this forwards whichever the repository used.
        query: ((...args: unknown[]) => {
          if (!open || sent++ > 0) {
            throw new Error('withUserStatement: one statement, sent before the first await');
          }
          return (client.query as (...a: unknown[]) => unknown)(...args);
        }) as Queryable['query'],
      };
      let answer: Promise<T>;
      try {
        answer = issue(createRepositories(once));
      } catch (err) {
        answer = Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
      open = false;
      const result = settle(answer);
      if (sent !== 1) {
        socket.uncork();
        corked = false;
        await client.query('rollback').catch(() => undefined);
        const failed = (await begun) ?? (await result);
        if (failed) {
          throw failed.err;
        }
        throw new Error('withUserStatement: issue sent no statement before its first await');
      }
      // Ends the transaction in every case: on a failed statement Postgres answers it with a rollback.
      const committed = settle(client.query('commit'));
      socket.uncork();
      corked = false;
      const failed = (await begun) ?? (await result) ?? (await committed);
      if (failed) {
        throw failed.err;
      }
      return await answer;
    } finally {
      if (corked) {
        socket.uncork();
      }
      client.release();
    }
  }

  /**
   * Runs `fn` as `neonpro_plan_reader`: every clinic's plan and month-to-date usage, read-only and
   * nothing else (the gateway's limits apply before a user's clinic is known). No claims: any
   * other table answers permission denied.
   */
  async asPlanReader<T>(fn: (repos: Repositories, tx: Queryable) => Promise<T>): Promise<T> {
    return this.transaction(() => 'begin; set local role neonpro_plan_reader', fn);
  }

  /**
   * One transaction on a pooled client: `begin` (the statement `begin` builds, which also sets the
   * role and settings for this transaction only), `fn`, commit; rollback on any error.
   */
  private async transaction<T>(
    begin: (client: pg.PoolClient) => string,
    fn: (repos: Repositories, tx: Queryable) => Promise<T>,
  ): Promise<T> {
    const client = await this.pool.connect();
    // Pipelined: the preamble is on the wire and fn's first statement follows it without waiting
    // for its answer (one round trip saved per transaction). Postgres answers in order; a failed
    // preamble leaves the transaction aborted or the connection without its role, so fn's
    // statements fail too and the preamble's own error is the one reported. Corked until fn has
    // sent what it sends before its first await: one socket write for both.
    const socket = client.connection.stream;
    socket.cork();
    const begun = settle(client.query(begin(client)));
    let pending: Promise<T>;
    try {
      pending = fn(createRepositories(client), client);
    } catch (err) {
      pending = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    } finally {
      socket.uncork();
    }
    try {
      const result = await pending;
      const failed = await begun;
      if (failed) {
        throw failed.err;
      }
      await client.query('commit');
      return result;
    } catch (err) {
      const failed = await begun;
      await client.query('rollback').catch(() => undefined);
      throw failed ? failed.err : err;
    } finally {
      client.release();
    }
  }

  async ping(): Promise<void> {
    await this.pool.query('select 1');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

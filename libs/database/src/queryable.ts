import type pg from 'pg';

/** Anything that can run a query: a pooled client inside a transaction. */
export type Queryable = Pick<pg.PoolClient, 'query'>;

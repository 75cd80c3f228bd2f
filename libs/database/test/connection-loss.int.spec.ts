import { randomUUID } from 'node:crypto';
import { Database, isDatabaseUnavailable } from '@neonpro/database';
import { createTestDatabase, type TestDatabase, must } from '@neonpro/testing';
import pg from 'pg';

/** A Postgres restart ends connections that are checked out between two queries. */
describe('database: a connection lost while checked out', () => {
  let tdb: TestDatabase;
  let db: Database;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    db = new Database({ url: tdb.serviceUrl, poolMax: 2 });
  });

  afterAll(async () => {
    await db?.close();
    await tdb?.drop();
  });

  it('fails the transaction as "database unavailable" instead of crashing, and the pool recovers', async () => {
    const admin = new pg.Client({ connectionString: tdb.url });
    await admin.connect();
    let failure: unknown;
    try {
      await db.withUser({ sub: randomUUID() }, async (_repos, tx) => {
        const { rows } = await tx.query<{ pid: number }>('select pg_backend_pid() as pid');
        await admin.query('select pg_terminate_backend($1)', [must(rows[0], 'rows[0]').pid]);
        // Let the termination notice arrive while no query is running (pg emits 'error' then).
        await new Promise((r) => setTimeout(r, 200));
        await tx.query('select 1');
      });
    } catch (err) {
      failure = err;
    } finally {
      await admin.end();
    }
    expect(isDatabaseUnavailable(failure)).toBe(true);
    // The broken client was dropped: the next transaction gets a healthy one.
    await expect(
      db.withUser(
        { sub: randomUUID() },
        async (_r, tx) => (await tx.query<{ one: number }>('select 1 as one')).rows[0],
      ),
    ).resolves.toEqual({
      one: 1,
    });
  });
});

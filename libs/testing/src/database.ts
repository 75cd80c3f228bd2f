import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Database, ensureDatabase, findSupabaseDir, runMigrations, runSeed } from '@neonpro/database';
import pg from 'pg';

export const DATABASE_ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The services' dev login (created by the migrations): it can only `set role authenticated`. */
export const SERVICE_ROLE_USER = 'neonpro_authenticator';
export const SERVICE_ROLE_DEV_PASSWORD = 'neonpro-authenticator-dev';

export interface TestDatabase {
  /** The owner's URL: migrations and fixtures that insert test data. */
  url: string;
  /**
   * The least-privilege login (`neonpro_authenticator`): what every service under test and every
   * `withUser` must use, so tests see what production sees.
   */
  serviceUrl: string;
  name: string;
  /** Drops the database (terminating leftover connections). */
  drop(): Promise<void>;
}

/** A fresh database with every migration applied (and the demo seed when asked), owned by one test file. */
export async function createTestDatabase(
  opts: {
    seed?: boolean;
    demoPassword?: string;
    /** Another server's admin URL, e.g. a private Postgres a drill restarts. */
    adminUrl?: string;
  } = {},
): Promise<TestDatabase> {
  const adminUrl = opts.adminUrl ?? DATABASE_ADMIN_URL;
  const name = `neonpro_test_${randomBytes(6).toString('hex')}`;
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  await ensureDatabase(url.toString());
  const db = new Database({
    url: url.toString(),
    poolMax: 1,
    statementTimeoutMs: 0,
    applicationName: 'neonpro-migrate',
  });
  try {
    const supabase = findSupabaseDir(import.meta.dirname);
    await runMigrations(db.pool, join(supabase, 'migrations'));
    if (opts.seed) {
      await runSeed(db.pool, join(supabase, 'seed.sql'), opts.demoPassword ?? 'neonpro-demo');
    }
  } finally {
    await db.close();
  }
  const serviceUrl = new URL(url);
  serviceUrl.username = SERVICE_ROLE_USER;
  serviceUrl.password = SERVICE_ROLE_DEV_PASSWORD;
  return {
    url: url.toString(),
    serviceUrl: serviceUrl.toString(),
    name,
    drop: async () => {
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      try {
        await admin.query(`drop database if exists ${pg.escapeIdentifier(name)} with (force)`);
      } finally {
        await admin.end();
      }
    },
  };
}

/** Runs one statement on its own connection (test fixtures as the owner; no pool to close). */
export async function sqlOnce<T>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text, values)).rows as T[];
  } finally {
    await c.end();
  }
}

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import pg from 'pg';

export interface MigrationResult {
  applied: string[];
  skipped: string[];
}

/** Finds the `supabase/` folder walking up from `from` (source tree, dist, or an image). */
export function findSupabaseDir(from: string = import.meta.dirname): string {
  if (process.env.SUPABASE_DIR) {
    return process.env.SUPABASE_DIR;
  }
  let dir = from;
  for (;;) {
    const candidate = join(dir, 'supabase', 'migrations');
    if (existsSync(candidate)) {
      return join(dir, 'supabase');
    }
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(`no supabase/migrations folder above ${from}`);
    }
    dir = parent;
  }
}

/** Creates the database named in `url` when it does not exist (connecting to `postgres`). */
export async function ensureDatabase(url: string): Promise<boolean> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!name) {
    throw new Error('DATABASE_URL names no database');
  }
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const r = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (r.rowCount) {
      return false;
    }
    try {
      await client.query(`create database ${pg.escapeIdentifier(name)}`);
    } catch (err) {
      // Another process created it first.
      if ((err as { code?: string }).code !== '42P04') {
        throw err;
      }
      return false;
    }
    return true;
  } finally {
    await client.end();
  }
}

const LOCK_KEY = 'neonpro:migrations';

/**
 * Applies `<dir>/*.sql` in name order, each in its own transaction, recording version and
 * checksum. An advisory lock serialises concurrent runners (several pods starting at once);
 * an applied file whose content changed is an error, never silently re-run.
 */
export async function runMigrations(pool: pg.Pool, dir: string): Promise<MigrationResult> {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  const client = await pool.connect();
  const result: MigrationResult = { applied: [], skipped: [] };
  try {
    await client.query('select pg_advisory_lock(hashtext($1))', [LOCK_KEY]);
    await client.query('create schema if not exists neonpro_migrations');
    await client.query(`create table if not exists neonpro_migrations.applied (
      version text primary key, name text not null, checksum text not null,
      applied_at timestamptz not null default now())`);
    const done = new Map(
      (
        await client.query<{ version: string; checksum: string }>(
          'select version, checksum from neonpro_migrations.applied',
        )
      ).rows.map((r) => [r.version, r.checksum]),
    );
    for (const file of files) {
      const sql = readFileSync(join(dir, file), 'utf8');
      const checksum = createHash('sha256').update(sql).digest('hex');
      const version = file.split('_')[0] ?? file;
      const known = done.get(version);
      if (known) {
        if (known !== checksum) {
          throw new Error(`migration ${file} changed after it was applied`);
        }
        result.skipped.push(file);
        continue;
      }
      await client.query('begin');
      try {
        await client.query(sql);
        await client.query('insert into neonpro_migrations.applied (version, name, checksum) values ($1, $2, $3)', [
          version,
          file,
          checksum,
        ]);
        await client.query('commit');
      } catch (err) {
        await client.query('rollback');
        throw new Error(`migration ${file} failed: ${(err as Error).message}`, { cause: err });
      }
      result.applied.push(file);
    }
    return result;
  } finally {
    await client.query('select pg_advisory_unlock(hashtext($1))', [LOCK_KEY]).catch(() => undefined);
    client.release();
  }
}

/** Runs `supabase/seed.sql` with the demo password. Idempotent (the seed itself is). */
export async function runSeed(pool: pg.Pool, seedFile: string, demoPassword: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    await client.query("select set_config('neonpro.demo_password', $1, true)", [demoPassword]);
    await client.query(readFileSync(seedFile, 'utf8'));
    await client.query('commit');
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

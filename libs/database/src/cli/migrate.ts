// `npm run db:migrate`: creates the database if missing and applies supabase/migrations, as the
// schema owner (DATABASE_MIGRATION_URL): the services' own login cannot run DDL.
// Safe to run from several pods at once (advisory lock). Also runs inside the production image.
import { join } from 'node:path';
import { exitOnConfigError, loadConfig, migrateConfigSchema } from '@neonpro/config';
import { Database } from '../database.js';
import { ensureDatabase, findSupabaseDir, runMigrations } from '../migrate.js';

let config;
try {
  config = loadConfig('migrate', migrateConfigSchema, process.env);
} catch (err) {
  exitOnConfigError(err);
}
const url = config.DATABASE_MIGRATION_URL;
try {
  if (config.DB_CREATE_IF_MISSING && (await ensureDatabase(url))) {
    console.log('db: database created');
  }
  const db = new Database({ url, poolMax: 1, statementTimeoutMs: 0, applicationName: 'neonpro-migrate' });
  try {
    const r = await runMigrations(db.pool, join(findSupabaseDir(), 'migrations'));
    console.log(`db: ${r.applied.length} migration(s) applied, ${r.skipped.length} already applied`);
  } finally {
    await db.close();
  }
} catch (err) {
  console.error(`db: migration failed: ${(err as Error).message}`);
  process.exit(1);
}

// `npm run db:migrate`: creates the database if missing and applies supabase/migrations.
// Safe to run from several pods at once (advisory lock). Also runs inside the production image.
import { join } from 'node:path';
import { Database } from '../database.js';
import { ensureDatabase, findSupabaseDir, runMigrations } from '../migrate.js';

const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/neonpro';
try {
  if (process.env.DB_CREATE_IF_MISSING !== 'false' && (await ensureDatabase(url))) {
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

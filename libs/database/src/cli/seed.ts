// `npm run db:seed`: demo clinics, users, professionals, patients and appointments (idempotent).
// Dev only, as the owner (DATABASE_MIGRATION_URL), like the migrations.
import { join } from 'node:path';
import { DEV_MIGRATION_DATABASE_URL } from '@neonpro/config';
import { Database } from '../database.js';
import { findSupabaseDir, runSeed } from '../migrate.js';

const url = process.env.DATABASE_MIGRATION_URL || DEV_MIGRATION_DATABASE_URL;
const db = new Database({ url, poolMax: 1, statementTimeoutMs: 0, applicationName: 'neonpro-seed' });
try {
  await runSeed(db.pool, join(findSupabaseDir(), 'seed.sql'), process.env.DEMO_PASSWORD || 'neonpro-demo');
  console.log('db: demo seed applied');
} catch (err) {
  console.error(`db: seed failed: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  await db.close();
}

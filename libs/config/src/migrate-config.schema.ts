import { z } from 'zod';
import { DEV_MIGRATION_DATABASE_URL, env, refuseDevDefaults } from './env.schema.js';

/** `npm run db:migrate` / the migration Job: the owner's credentials, never the services'. */
export const migrateConfigSchema = z
  .object({
    NODE_ENV: env.nodeEnv(),
    /** The schema owner (Supabase: `postgres`). Services use DATABASE_URL (neonpro_authenticator). */
    DATABASE_MIGRATION_URL: env.url(DEV_MIGRATION_DATABASE_URL, /^postgres(ql)?:$/),
    /** Create the database when it does not exist (local only; managed databases exist already). */
    DB_CREATE_IF_MISSING: env.bool(true),
  })
  .superRefine((cfg, ctx) => refuseDevDefaults(cfg, ctx, { databaseUrls: ['DATABASE_MIGRATION_URL'] }));

export type MigrateConfig = z.output<typeof migrateConfigSchema>;

import { z } from 'zod';
import { env, subjectPrefixSchema } from './env.schema.js';

/** Empty strings count as unset, so `SUPABASE_JWT_SECRET=` disables HS256 instead of failing. */
const optionalSecret = z.preprocess(
  (v) => (v === '' ? undefined : v),
  z.string().min(32, 'must be at least 32 characters').optional(),
);

/** Every environment variable the gateway reads. Documented in the root README. */
export const gatewayConfigSchema = z.object({
  NODE_ENV: env.nodeEnv(),
  LOG_LEVEL: env.logLevel(),
  HOST: env.str('0.0.0.0'),
  PORT: env.port(3000),
  NATS_URL: env.url('nats://127.0.0.1:4222', /^(nats|tls|ws|wss):$/),
  NATS_SUBJECT_PREFIX: subjectPrefixSchema,
  /** Longest silence accepted from an agent (before the first event, and between events). */
  AGENT_TIMEOUT_MS: env.int(30000, 100, 600000),
  /** Retry-After sent with 503 when no agent answers. */
  AGENT_RETRY_AFTER_S: env.int(5, 1, 3600),
  BODY_LIMIT_BYTES: env.int(64 * 1024, 1024, 10 * 1024 * 1024),
  /** Bound for in-flight requests and streams to finish on SIGTERM. */
  SHUTDOWN_TIMEOUT_MS: env.int(10000, 0, 300000),
  /** Supabase Postgres (through Supavisor in transaction mode in production). */
  DATABASE_URL: env.url('postgres://postgres@127.0.0.1:5432/neonpro', /^postgres(ql)?:$/),
  DB_POOL_MAX: env.int(10, 1, 200),
  DB_STATEMENT_TIMEOUT_MS: env.int(15000, 0, 600000),
  /** Supabase project URL; locally the dev auth emulator. */
  SUPABASE_URL: env.url('http://127.0.0.1:54321', /^https?:$/),
  /** Public anon key sent by supabase-js; the emulator accepts any value. */
  SUPABASE_ANON_KEY: env.str('neonpro-local-anon-key'),
  /** Legacy HS256 JWT secret; when unset only JWKS (ES256/RS256) tokens are accepted. */
  SUPABASE_JWT_SECRET: optionalSecret,
  /** How long fetched JWKS keys are trusted before a refetch. */
  JWKS_CACHE_MAX_AGE_MS: env.int(600000, 1000, 86400000),
  /** How long a user's clinic and role are cached by the gateway. */
  AUTH_MEMBERSHIP_CACHE_TTL_MS: env.int(30000, 0, 3600000),
  /** Bound for a login/refresh call to Supabase Auth before answering 503. */
  AUTH_UPSTREAM_TIMEOUT_MS: env.int(5000, 100, 60000),
});

export type GatewayConfig = z.output<typeof gatewayConfigSchema>;

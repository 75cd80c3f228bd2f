import { z } from 'zod';
import { DEV_RUN_GRANT_PRIVATE_JWK } from '@neonpro/contracts';
import { checkNatsEnv, DEV_SERVICE_DATABASE_URL, env, natsEnvShape, refuseDevDefaults } from './env.schema.js';

/**
 * `TRUST_PROXY`: which peers may set X-Forwarded-For/-Proto. `false` (default) trusts none;
 * a number trusts that many hops; otherwise a comma-separated list of IPs/CIDRs. Plain `true`
 * (trust anyone) is refused: it would let any client choose its rate-limit key.
 */
const trustProxySchema = z
  .string()
  .default('false')
  .transform((s, ctx): false | number | string[] => {
    const v = s.trim();
    if (v === 'false' || v === '0') {
      return false;
    }
    if (/^\d+$/.test(v)) {
      return Number(v);
    }
    const list = v
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
    if (v === 'true' || list.length === 0 || list.some((x) => !/^[0-9A-Fa-f:.]+(\/\d{1,3})?$/.test(x))) {
      ctx.addIssue({ code: 'custom', message: 'use false, a hop count, or a comma-separated list of IPs/CIDRs' });
      return z.NEVER;
    }
    return list;
  });

/** `CORS_ORIGINS`: comma-separated exact origins; `*` allows any origin but then never credentials. */
const corsOriginsSchema = z
  .string()
  .default('')
  .transform((s, ctx) => {
    const list = s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
    for (const o of list) {
      if (o === '*') {
        continue;
      }
      try {
        const u = new URL(o);
        if (u.origin !== o) {
          throw new Error('not an origin');
        }
      } catch {
        ctx.addIssue({ code: 'custom', message: `"${o}" is not an origin like https://app.example.com` });
      }
    }
    return list;
  });

/** Settings of one named downstream policy (timeout, retry, breaker, bulkhead), prefixed by `p`. */
function policyEnv<P extends string>(
  p: P,
  d: { timeoutMs?: number; retries: number; threshold: number; halfOpenMs: number; bulkhead: number; queue: number },
) {
  return {
    // The agent's timeout is AGENT_TIMEOUT_MS (declared above), so it has no second one.
    ...(p === 'AGENT' ? {} : { [`${p}_TIMEOUT_MS`]: env.int(d.timeoutMs ?? 0, 0, 600000) }),
    [`${p}_RETRY_MAX`]: env.int(d.retries, 0, 10),
    [`${p}_RETRY_BASE_MS`]: env.int(100, 1, 60000),
    [`${p}_BREAKER_MODE`]: z.enum(['consecutive', 'sampling']).default('consecutive'),
    [`${p}_BREAKER_THRESHOLD`]: env.int(d.threshold, 1, 10000),
    [`${p}_BREAKER_RATIO`]: z.coerce.number().gt(0).max(1).default(0.5),
    [`${p}_BREAKER_WINDOW_MS`]: env.int(30000, 1000, 3600000),
    [`${p}_BREAKER_MIN_RPS`]: z.coerce.number().positive().default(1),
    [`${p}_BREAKER_HALF_OPEN_MS`]: env.int(d.halfOpenMs, 10, 3600000),
    [`${p}_BULKHEAD`]: env.int(d.bulkhead, 1, 100000),
    [`${p}_BULKHEAD_QUEUE`]: env.int(d.queue, 0, 100000),
  } as {
    [
      K in
        | (P extends 'AGENT' ? never : `${P}_TIMEOUT_MS`)
        | `${P}_RETRY_MAX`
        | `${P}_RETRY_BASE_MS`
        | `${P}_BREAKER_THRESHOLD`
        | `${P}_BREAKER_WINDOW_MS`
        | `${P}_BREAKER_HALF_OPEN_MS`
        | `${P}_BULKHEAD`
        | `${P}_BULKHEAD_QUEUE`
    ]: z.ZodDefault<z.ZodCoercedNumber<unknown>>;
  } & {
    [K in `${P}_BREAKER_RATIO` | `${P}_BREAKER_MIN_RPS`]: z.ZodDefault<z.ZodCoercedNumber<unknown>>;
  } & { [K in `${P}_BREAKER_MODE`]: z.ZodDefault<z.ZodEnum<{ consecutive: 'consecutive'; sampling: 'sampling' }>> };
}
/** Empty strings count as unset, so `SUPABASE_JWT_SECRET=` disables HS256 instead of failing. */
const optionalSecret = z.preprocess(
  (v) => (v === '' ? undefined : v),
  z.string().min(32, 'must be at least 32 characters').optional(),
);

/** Every environment variable the gateway reads. Documented in the root README. */
const gatewayConfigObject = z.object({
  NODE_ENV: env.nodeEnv(),
  LOG_LEVEL: env.logLevel(),
  HOST: env.str('0.0.0.0'),
  PORT: env.port(3000),
  ...natsEnvShape,
  /** Longest silence accepted from an agent (before the first event, and between events). */
  AGENT_TIMEOUT_MS: env.int(30000, 100, 600000),
  /** Retry-After sent with 503 when no agent answers. */
  AGENT_RETRY_AFTER_S: env.int(5, 1, 3600),
  /** Cluster-wide bound of runs waiting in AGENT_RUNS; beyond it chats get 503 `agent_overloaded`. */
  AGENT_QUEUE_MAX_PENDING: env.int(100, 0, 1_000_000),
  /** How long the queue depth and agent presence read from NATS are reused (one lookup per period). */
  AGENT_ADMISSION_CACHE_MS: env.int(250, 0, 60000),
  /** Ed25519 private JWK the gateway signs run grants with (agents hold the public half). */
  AGENT_GRANT_PRIVATE_KEY: env.grantKey(DEV_RUN_GRANT_PRIVATE_JWK, 'sign'),
  /** Lifetime of a run grant: at least the run's deadline (queue wait and redeliveries included). */
  AGENT_GRANT_TTL_S: env.int(900, 60, 86400),
  BODY_LIMIT_BYTES: env.int(64 * 1024, 1024, 10 * 1024 * 1024),
  /** Bound for in-flight requests and streams to finish on SIGTERM. */
  SHUTDOWN_TIMEOUT_MS: env.int(10000, 0, 300000),
  /**
   * Port of a separate listener serving only /metrics, so no Ingress rule for the API port can
   * expose it. 0 (default, local runs) serves /metrics on PORT instead. The chart sets 9464.
   */
  METRICS_PORT: env.port(0),
  /** Swagger UI and the OpenAPI document at /docs. Off in production unless set to true. */
  DOCS_ENABLED: z.stringbool().optional(),

  /**
   * Public base URL of the API (e.g. https://api.neonpro.com.br), the `servers` entry of the
   * OpenAPI and AsyncAPI documents. Unset: documents point at wherever they are served from.
   */
  PUBLIC_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .transform((s) => s.replace(/\/+$/, ''))
    .optional(),

  // HTTP hygiene
  TRUST_PROXY: trustProxySchema,
  CORS_ORIGINS: corsOriginsSchema,
  /** Longest time to receive a whole request (headers and body). 0 disables. */
  REQUEST_TIMEOUT_MS: env.int(30000, 0, 600000),
  /** Idle socket timeout. SSE streams are exempt (they may be silent while the agent thinks). */
  CONNECTION_TIMEOUT_MS: env.int(60000, 0, 3600000),
  /** Responses larger than this are compressed when the client accepts it (never SSE). */
  COMPRESSION_THRESHOLD_BYTES: env.int(1024, 0, 10 * 1024 * 1024),
  SLOW_REQUEST_WARN_MS: env.int(1000, 1, 600000),
  SLOW_REQUEST_CRITICAL_MS: env.int(5000, 1, 600000),

  // Rate limiting (design numbers: healthcare 50/15 min, ai 20/min, auth 10 failed/15 min, default 100/15 min)
  /** Kill switch for deployments whose edge already limits (and for the limiter benchmark). */
  RATE_LIMIT_ENABLED: env.bool(true),
  RATE_LIMIT_HEALTHCARE_LIMIT: env.int(50, 1, 1_000_000_000),
  RATE_LIMIT_HEALTHCARE_WINDOW_S: env.int(900, 1, 86400),
  RATE_LIMIT_AI_LIMIT: env.int(20, 1, 1_000_000_000),
  RATE_LIMIT_AI_WINDOW_S: env.int(60, 1, 86400),
  RATE_LIMIT_AUTH_LIMIT: env.int(10, 1, 1_000_000_000),
  RATE_LIMIT_AUTH_WINDOW_S: env.int(900, 1, 86400),
  RATE_LIMIT_DEFAULT_LIMIT: env.int(100, 1, 1_000_000_000),
  RATE_LIMIT_DEFAULT_WINDOW_S: env.int(900, 1, 86400),
  /** Per-clinic aggregate of the `ai` tier (every user of a clinic together), so one clinic cannot starve the agents. */
  RATE_LIMIT_AI_CLINIC_LIMIT: env.int(200, 1, 1_000_000_000),
  RATE_LIMIT_AI_CLINIC_WINDOW_S: env.int(60, 1, 86400),
  /** Monthly AI token budget (input + output) of clinics whose plan sets none; 0 = no budget. */
  PLAN_MONTHLY_AI_TOKENS: env.int(0, 0, Number.MAX_SAFE_INTEGER),
  /** How long a replica trusts a cached plan: bounds how late a missed NATS invalidation is applied. */
  PLAN_CACHE_TTL_MS: env.int(5000, 0, 10000),
  /** How long a clinic's month-to-date token spend is cached per replica before the budget check rereads it. */
  USAGE_CACHE_TTL_MS: env.int(5000, 0, 60000),
  /** Prefix of every rate-limit key in Redis (lets environments and tests share one Redis). */
  RATE_LIMIT_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:._-]{1,64}$/)
    .default('neonpro:rl:'),
  /**
   * Most hits a replica counts in Redis at once and then hands out locally (an eighth of what is
   * left of the limit, never past it); 1 = every hit is its own Redis round trip (exact sharing).
   */
  RATE_LIMIT_LEASE_MAX: env.int(16, 1, 1000),
  /** What to do when Redis cannot be reached: `open` lets requests through, `closed` answers 503. */
  RATE_LIMIT_REDIS_FAIL_MODE: z.enum(['open', 'closed']).default('open'),
  /** Shared rate-limit counters for every replica; unset = in-memory (one replica only). */
  REDIS_URL: z
    .string()
    .refine((s) => {
      try {
        return /^rediss?:$/.test(new URL(s).protocol);
      } catch {
        return false;
      }
    }, 'must be a redis:// or rediss:// URL')
    .optional(),
  /** Bound for one Redis command before it counts as "Redis down". */
  REDIS_COMMAND_TIMEOUT_MS: env.int(500, 10, 60000),

  // Realtime chat over Socket.IO (namespace /chat, path /socket.io)
  /** Server → client ping period (the design used 30 s; 25 s keeps under common 30 s proxy idle timeouts). */
  SOCKET_PING_INTERVAL_MS: env.int(25000, 100, 600000),
  /** A client silent this long after a ping is dropped. */
  SOCKET_PING_TIMEOUT_MS: env.int(20000, 100, 600000),
  /** Open /chat sockets per process; beyond it connections are refused (`too_many_connections`). */
  SOCKET_MAX_CONNECTIONS: env.int(10000, 1, 1_000_000),
  /** Connection attempts per client IP per window (handshakes are not covered by HTTP guards). */
  SOCKET_CONNECT_RATE_LIMIT: env.int(60, 1, 1_000_000),
  SOCKET_CONNECT_RATE_WINDOW_S: env.int(60, 1, 86400),
  /** Largest Socket.IO message accepted (a chat message is at most 4000 characters). */
  SOCKET_MAX_PAYLOAD_BYTES: env.int(32 * 1024, 1024, 10 * 1024 * 1024),
  /** How long a disconnected client can come back and receive what it missed (0 disables recovery). */
  SOCKET_RECOVERY_WINDOW_MS: env.int(120000, 0, 3600000),
  /**
   * Broadcast packets kept for recovery, in the Redis stream (XADD MAXLEN ~) or in memory without
   * Redis: bounds the memory recovery uses whatever the chat rate, on top of SOCKET_RECOVERY_WINDOW_MS.
   */
  SOCKET_RECOVERY_MAX_PACKETS: env.int(10000, 100, 1_000_000),
  /**
   * WebSocket permessage-deflate. Off by default: a zlib context per socket costs far more
   * memory than chat tokens save on the wire.
   */
  SOCKET_PER_MESSAGE_DEFLATE: env.bool(false),
  /** How long a started session id stays joinable before the agent's row exists (in-flight ownership). */
  SOCKET_SESSION_TTL_S: env.int(3600, 60, 86400),
  /** Prefix of the Redis keys and stream of the Socket.IO adapter and the run registry. */
  SOCKET_REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:._-]{1,64}$/)
    .default('neonpro:sio:'),

  // Downstream policies (cockatiel): agent over NATS, Postgres, Supabase Auth
  ...policyEnv('AGENT', { retries: 2, threshold: 5, halfOpenMs: 10000, bulkhead: 200, queue: 100 }),
  ...policyEnv('POSTGRES', { timeoutMs: 5000, retries: 2, threshold: 5, halfOpenMs: 5000, bulkhead: 50, queue: 200 }),
  ...policyEnv('SUPABASE_AUTH', {
    timeoutMs: 5000,
    retries: 1,
    threshold: 5,
    halfOpenMs: 10000,
    bulkhead: 50,
    queue: 100,
  }),
  /**
   * Supabase Postgres (through Supavisor in transaction mode in production), as the login role
   * that can only `set role authenticated` (neonpro_authenticator), never the owner.
   */
  DATABASE_URL: env.url(DEV_SERVICE_DATABASE_URL, /^postgres(ql)?:$/),
  DB_POOL_MAX: env.int(10, 1, 200),
  /**
   * Database-backed requests (the clinic REST routes) inside the gateway at once; the rest wait at
   * the edge before any work is done for them (edge/database-admission.ts). About twice
   * DB_POOL_MAX keeps the pool busy while admitted requests run their JavaScript.
   */
  DB_ADMISSION_LIMIT: env.int(20, 1, 100000),
  /** Requests waiting for admission; past it a fast 503 `upstream_unavailable`. */
  DB_ADMISSION_QUEUE: env.int(1000, 0, 1000000),
  DB_STATEMENT_TIMEOUT_MS: env.int(15000, 0, 600000),
  /** Supabase project URL; locally the dev auth emulator. */
  SUPABASE_URL: env.url('http://127.0.0.1:54321', /^https?:$/),
  /** Public anon key sent by supabase-js; the emulator accepts any value. */
  SUPABASE_ANON_KEY: env.str('neonpro-local-anon-key'),
  /** Legacy HS256 JWT secret; when unset only JWKS (ES256/RS256) tokens are accepted. */
  SUPABASE_JWT_SECRET: optionalSecret,
  /** How long fetched JWKS keys are trusted before a refetch. */
  JWKS_CACHE_MAX_AGE_MS: env.int(600000, 1000, 86400000),
  /**
   * How long a verified access token is remembered (never past its exp), so the same token on
   * every request is signature-checked once per replica. 0 verifies every request.
   */
  AUTH_TOKEN_CACHE_TTL_MS: env.int(30000, 0, 600000),
  /** How long a user's clinic and role are cached by the gateway. */
  AUTH_MEMBERSHIP_CACHE_TTL_MS: env.int(30000, 0, 3600000),
  /** Bound for a login/refresh call to Supabase Auth before answering 503. */
  AUTH_UPSTREAM_TIMEOUT_MS: env.int(5000, 100, 60000),
});

/** With NODE_ENV=production, dev defaults stop the boot, naming the variable. */
export const gatewayConfigSchema = gatewayConfigObject.superRefine((cfg, ctx) => {
  checkNatsEnv(cfg, ctx);
  refuseDevDefaults(cfg, ctx, {
    databaseUrls: ['DATABASE_URL'],
    supabaseUrl: 'SUPABASE_URL',
    jwtSecret: 'SUPABASE_JWT_SECRET',
  });
  if (cfg.NODE_ENV === 'production' && cfg.AGENT_GRANT_PRIVATE_KEY === DEV_RUN_GRANT_PRIVATE_JWK) {
    ctx.addIssue({
      code: 'custom',
      path: ['AGENT_GRANT_PRIVATE_KEY'],
      message: 'production refuses the development grant key: generate an Ed25519 JWK (see README)',
    });
  }
});

export type GatewayConfig = z.output<typeof gatewayConfigSchema>;

import { z } from 'zod';
import { DEV_RUN_GRANT_PUBLIC_JWK } from '@neonpro/contracts';
import { checkNatsEnv, DEV_SERVICE_DATABASE_URL, env, natsEnvShape, refuseDevDefaults } from './env.schema.js';

export const MODEL_PROVIDERS = ['local', 'openai', 'anthropic', 'ollama'] as const;
export type ModelProvider = (typeof MODEL_PROVIDERS)[number];

const providerList = z
  .string()
  .default('')
  .transform((s) =>
    s
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.enum(MODEL_PROVIDERS, { error: `each entry must be one of ${MODEL_PROVIDERS.join(', ')}` })));

const httpUrl = (def?: string) => {
  const base = z.string().refine((s) => {
    try {
      return /^https?:$/.test(new URL(s).protocol);
    } catch {
      return false;
    }
  }, 'must be an http(s) URL');
  return def === undefined ? base.optional() : base.default(def);
};

/** Every environment variable the ai-agent reads. Documented in the root README. */
export const agentConfigSchema = z
  .object({
    NODE_ENV: env.nodeEnv(),
    LOG_LEVEL: env.logLevel(),
    HOST: env.str('0.0.0.0'),
    /** Ops HTTP port: /health/* and /metrics only. */
    PORT: env.port(3001),
    ...natsEnvShape,
    /** Runs executed at once by this replica: it pulls a run from AGENT_RUNS only into a free slot. */
    AGENT_CONCURRENCY: env.int(4, 1, 1024),
    /** Redelivery delay of a run whose agent died (the agent sends in-progress acks meanwhile). */
    AGENT_ACK_WAIT_MS: env.int(10000, 1000, 600000),
    /** Attempts of one run (redeliveries after crashes included); then it ends with `agent_failed`. */
    AGENT_MAX_DELIVER: env.int(3, 1, 20),
    /** Storage of AGENT_EVENTS when this agent creates it (see README: measured). */
    AGENT_EVENTS_STORAGE: z.enum(['memory', 'file']).default('file'),
    /** Create/update AGENT_RUNS, AGENT_EVENTS and the consumer at boot (off when ops provision them). */
    NATS_PROVISION_STREAMS: env.bool(true),
    /**
     * Coalesce token deltas for this long before publishing them (0 = one event per token). The
     * first deltas of a run wait only for the event loop's next turn; each event costs a stream
     * write and a relay hop.
     */
    AGENT_TOKEN_FLUSH_MS: env.int(10, 0, 1000),
    /** ...or until this many bytes are buffered (1 KiB: a local model's answer is one event). */
    AGENT_TOKEN_FLUSH_BYTES: env.int(1024, 1, 65536),
    /** Ed25519 public JWK the run grants are verified with (the gateway holds the private key). */
    AGENT_GRANT_PUBLIC_KEY: env.grantKey(DEV_RUN_GRANT_PUBLIC_JWK, 'verify'),
    /** Runs allowed to wait for a slot; beyond this the agent answers `agent_overloaded` at once. */
    AGENT_QUEUE_MAX: env.int(32, 0, 100000),
    /**
     * Bound for in-flight runs to finish on SIGTERM before the agent exits anyway; at least the
     * longest allowed run (AGENT_MAX_STEPS × AGENT_MODEL_TIMEOUT_MS), which is the default.
     */
    AGENT_DRAIN_TIMEOUT_MS: z.coerce.number().int().min(0).max(3600000).optional(),
    /** Pause between streamed tokens of the local model (0 = as fast as possible). */
    AGENT_TOKEN_DELAY_MS: env.int(0, 0, 60000),
    /** Identifies this replica in logs and metrics; defaults to the host name. */
    AGENT_INSTANCE_ID: z.string().min(1).max(128).optional(),

    /** Primary chat model provider. */
    AGENT_MODEL_PROVIDER: z.enum(MODEL_PROVIDERS).default('local'),
    /** Comma-separated providers tried in order after the primary fails or its breaker is open. */
    AGENT_MODEL_FALLBACKS: providerList,
    /** Model calls per run (each tool round is one step). */
    AGENT_MAX_STEPS: env.int(6, 1, 50),
    /** Bound of one model call (to the first chunk and between chunks are not separate). */
    AGENT_MODEL_TIMEOUT_MS: env.int(60000, 100, 600000),
    /** Consecutive 429/5xx/network failures that open a provider's circuit breaker. */
    AGENT_BREAKER_THRESHOLD: env.int(3, 1, 1000),
    /** How long an open breaker skips its provider before a trial call (half-open). */
    AGENT_BREAKER_COOLDOWN_MS: env.int(30000, 100, 3600000),
    /** TTL and entry bound of the per-replica cache of read-only, non-personal tool results. */
    AGENT_TOOL_CACHE_TTL_MS: env.int(30000, 0, 3600000),
    AGENT_TOOL_CACHE_MAX: env.int(1000, 0, 1000000),
    /** Approximate tokens of earlier turns of the conversation sent to the model. */
    AGENT_CONTEXT_TOKEN_BUDGET: env.int(4000, 0, 1000000),

    /** Supabase Postgres: every tool call runs as the caller under RLS (Supavisor transaction mode is fine). */
    /** As neonpro_authenticator (can only `set role authenticated`), never the owner. */
    DATABASE_URL: env.url(DEV_SERVICE_DATABASE_URL, /^postgres(ql)?:$/),
    /** pg pool size per replica; at least AGENT_CONCURRENCY so runs never wait for a connection. */
    DB_POOL_MAX: env.int(10, 1, 200),
    DB_STATEMENT_TIMEOUT_MS: env.int(15000, 0, 600000),

    OPENAI_API_KEY: z.string().min(1).optional(),
    /** Any OpenAI-compatible server (vLLM, llama.cpp, …), e.g. inside the cluster. */
    OPENAI_BASE_URL: httpUrl(),
    OPENAI_MODEL: env.str('gpt-4o-mini'),
    ANTHROPIC_API_KEY: z.string().min(1).optional(),
    ANTHROPIC_BASE_URL: httpUrl(),
    ANTHROPIC_MODEL: env.str('claude-sonnet-4-5'),
    OLLAMA_BASE_URL: httpUrl('http://127.0.0.1:11434'),
    OLLAMA_MODEL: env.str('llama3.1'),
  })
  .superRefine((cfg, ctx) => {
    refuseDevDefaults(cfg, ctx, { databaseUrls: ['DATABASE_URL'] });
    checkNatsEnv(cfg, ctx);
    const longestRun = cfg.AGENT_MAX_STEPS * cfg.AGENT_MODEL_TIMEOUT_MS;
    if (cfg.AGENT_DRAIN_TIMEOUT_MS !== undefined && cfg.AGENT_DRAIN_TIMEOUT_MS < longestRun) {
      ctx.addIssue({
        code: 'custom',
        path: ['AGENT_DRAIN_TIMEOUT_MS'],
        message: `must be at least AGENT_MAX_STEPS × AGENT_MODEL_TIMEOUT_MS (${longestRun})`,
      });
    }
    if (cfg.NODE_ENV === 'production' && cfg.AGENT_GRANT_PUBLIC_KEY === DEV_RUN_GRANT_PUBLIC_JWK) {
      ctx.addIssue({
        code: 'custom',
        path: ['AGENT_GRANT_PUBLIC_KEY'],
        message: 'production refuses the development grant key: set the public half of the gateway key',
      });
    }
    const used = new Set([cfg.AGENT_MODEL_PROVIDER, ...cfg.AGENT_MODEL_FALLBACKS]);
    if (used.has('openai') && !cfg.OPENAI_API_KEY && !cfg.OPENAI_BASE_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['OPENAI_API_KEY'],
        message:
          'the openai provider is selected: set OPENAI_API_KEY, or OPENAI_BASE_URL for a keyless compatible server',
      });
    }
    if (used.has('anthropic') && !cfg.ANTHROPIC_API_KEY) {
      ctx.addIssue({
        code: 'custom',
        path: ['ANTHROPIC_API_KEY'],
        message: 'the anthropic provider is selected: set ANTHROPIC_API_KEY',
      });
    }
  });

export type AgentConfig = z.output<typeof agentConfigSchema>;

/** The drain bound in effect: the configured one, or the longest allowed run. */
export function agentDrainTimeoutMs(cfg: AgentConfig): number {
  return cfg.AGENT_DRAIN_TIMEOUT_MS ?? cfg.AGENT_MAX_STEPS * cfg.AGENT_MODEL_TIMEOUT_MS;
}

import { z } from 'zod';
import { env, subjectPrefixSchema } from './env.schema.js';

/** Every environment variable the ai-agent reads. Documented in the root README. */
export const agentConfigSchema = z.object({
  NODE_ENV: env.nodeEnv(),
  LOG_LEVEL: env.logLevel(),
  HOST: env.str('0.0.0.0'),
  /** Ops HTTP port: /health/* and /metrics only. */
  PORT: env.port(3001),
  NATS_URL: env.url('nats://127.0.0.1:4222', /^(nats|tls|ws|wss):$/),
  NATS_SUBJECT_PREFIX: subjectPrefixSchema,
  /** Runs executed at once by this replica. */
  AGENT_CONCURRENCY: env.int(4, 1, 1024),
  /** Runs allowed to wait for a slot; beyond this the agent answers `agent_overloaded` at once. */
  AGENT_QUEUE_MAX: env.int(32, 0, 100000),
  /** Bound for in-flight runs to finish on SIGTERM before the agent exits anyway. */
  AGENT_DRAIN_TIMEOUT_MS: env.int(20000, 0, 600000),
  /** Pause between streamed tokens of the local responder (0 = as fast as possible). */
  AGENT_TOKEN_DELAY_MS: env.int(0, 0, 60000),
  /** Identifies this replica in logs and metrics; defaults to the host name. */
  AGENT_INSTANCE_ID: z.string().min(1).max(128).optional(),
});

export type AgentConfig = z.output<typeof agentConfigSchema>;

import { z } from 'zod';
import { env, subjectPrefixSchema } from './env.schema.js';

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
});

export type GatewayConfig = z.output<typeof gatewayConfigSchema>;

// Which variables the Helm chart sets itself, as secrets or from dedicated values; all the
// others are settable through `gateway.config` / `agent.config` (values.schema.json).
export const CHART_SET = ['NODE_ENV', 'HOST', 'PORT', 'NATS_URL', 'NATS_SUBJECT_PREFIX'];
export const CHART_EXCLUDE = {
  gateway: [
    ...CHART_SET,
    'DATABASE_URL',
    'SUPABASE_URL',
    'SUPABASE_ANON_KEY',
    'SUPABASE_JWT_SECRET',
    'REDIS_URL',
    ...['HEALTHCARE', 'AI', 'AUTH', 'DEFAULT'].flatMap((t) => [`RATE_LIMIT_${t}_LIMIT`, `RATE_LIMIT_${t}_WINDOW_S`]),
    'AGENT_BREAKER_THRESHOLD',
    'AGENT_BREAKER_HALF_OPEN_MS',
    // metrics.gatewayPort (the Service and NetworkPolicy use the same port).
    'METRICS_PORT',
    // ingress.trustProxy while the ingress is enabled.
    'TRUST_PROXY',
  ],
  agent: [
    ...CHART_SET,
    'DATABASE_URL',
    'OPENAI_API_KEY',
    'ANTHROPIC_API_KEY',
    'AGENT_MODEL_PROVIDER',
    'OPENAI_MODEL',
    'ANTHROPIC_MODEL',
    'OLLAMA_MODEL',
    'OPENAI_BASE_URL',
    'OLLAMA_BASE_URL',
  ],
};

import { agentConfigSchema } from './agent-config.schema.js';
import { gatewayConfigSchema } from './gateway-config.schema.js';
import { ConfigError, loadConfig } from './load-config.js';

describe('loadConfig', () => {
  it('applies defaults for an empty environment', () => {
    const cfg = loadConfig('gateway', gatewayConfigSchema, {});
    expect(cfg.PORT).toBe(3000);
    expect(cfg.NATS_URL).toBe('nats://127.0.0.1:4222');
    expect(loadConfig('ai-agent', agentConfigSchema, {}).PORT).toBe(3001);
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig('gateway', gatewayConfigSchema, { PORT: '' }).PORT).toBe(3000);
  });

  it('coerces numbers and booleans from strings', () => {
    const cfg = loadConfig('gateway', gatewayConfigSchema, { PORT: '8080', AGENT_TIMEOUT_MS: '1500' });
    expect(cfg.PORT).toBe(8080);
    expect(cfg.AGENT_TIMEOUT_MS).toBe(1500);
  });

  it('names every bad variable in one readable error', () => {
    let err: unknown;
    try {
      loadConfig('gateway', gatewayConfigSchema, { PORT: 'abc', NATS_URL: 'http://x', LOG_LEVEL: 'loud' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as ConfigError).message;
    expect(message).toContain('Invalid configuration for gateway');
    expect(message).toMatch(/PORT: .*\(value: "abc"\)/);
    expect(message).toMatch(/NATS_URL: .*protocol/);
    expect(message).toContain('LOG_LEVEL');
    expect((err as ConfigError).problems).toHaveLength(3);
  });

  it('never echoes secret values', () => {
    const schema = gatewayConfigSchema.safeExtend({ SOME_SECRET: gatewayConfigSchema.shape.PORT });
    expect(() => loadConfig('gateway', schema, { SOME_SECRET: 'hunter2' })).toThrow(/set \(hidden\)/);
    expect(() => loadConfig('gateway', schema, { SOME_SECRET: 'hunter2' })).not.toThrow(/hunter2/);
  });

  it('rejects subject prefixes with wildcards', () => {
    expect(() => loadConfig('gateway', gatewayConfigSchema, { NATS_SUBJECT_PREFIX: 'a.*' })).toThrow(
      /NATS_SUBJECT_PREFIX/,
    );
  });
});

describe('agent model configuration', () => {
  it('defaults to the offline local provider without fallbacks', () => {
    const cfg = loadConfig('ai-agent', agentConfigSchema, {});
    expect(cfg.AGENT_MODEL_PROVIDER).toBe('local');
    expect(cfg.AGENT_MODEL_FALLBACKS).toEqual([]);
    expect(cfg.AGENT_MAX_STEPS).toBe(6);
  });

  it('parses a fallback chain', () => {
    const cfg = loadConfig('ai-agent', agentConfigSchema, {
      AGENT_MODEL_PROVIDER: 'openai',
      OPENAI_BASE_URL: 'http://127.0.0.1:8000/v1',
      AGENT_MODEL_FALLBACKS: 'openai, local',
    });
    expect(cfg.AGENT_MODEL_FALLBACKS).toEqual(['openai', 'local']);
  });

  it('fails fast, readably, when a selected provider lacks what it needs', () => {
    expect(() => loadConfig('ai-agent', agentConfigSchema, { AGENT_MODEL_PROVIDER: 'openai' })).toThrow(
      /OPENAI_API_KEY: the openai provider is selected/,
    );
    expect(() => loadConfig('ai-agent', agentConfigSchema, { AGENT_MODEL_FALLBACKS: 'anthropic' })).toThrow(
      /ANTHROPIC_API_KEY/,
    );
    expect(() => loadConfig('ai-agent', agentConfigSchema, { AGENT_MODEL_FALLBACKS: 'gpt' })).toThrow(
      /AGENT_MODEL_FALLBACKS/,
    );
  });
});

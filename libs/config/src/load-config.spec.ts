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
    const schema = gatewayConfigSchema.extend({ SOME_SECRET: gatewayConfigSchema.shape.PORT });
    expect(() => loadConfig('gateway', schema, { SOME_SECRET: 'hunter2' })).toThrow(/set \(hidden\)/);
    expect(() => loadConfig('gateway', schema, { SOME_SECRET: 'hunter2' })).not.toThrow(/hunter2/);
  });

  it('rejects subject prefixes with wildcards', () => {
    expect(() => loadConfig('gateway', gatewayConfigSchema, { NATS_SUBJECT_PREFIX: 'a.*' })).toThrow(
      /NATS_SUBJECT_PREFIX/,
    );
  });
});

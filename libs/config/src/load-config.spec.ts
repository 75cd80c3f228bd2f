import { generateKeyPairSync } from 'node:crypto';
import { agentConfigSchema } from './agent-config.schema.js';
import { gatewayConfigSchema } from './gateway-config.schema.js';
import { ConfigError, loadConfig } from './load-config.js';
import { migrateConfigSchema } from './migrate-config.schema.js';

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

describe('run-grant keys', () => {
  const keys = generateKeyPairSync('ed25519');
  const privateJwk = JSON.stringify(keys.privateKey.export({ format: 'jwk' }));
  const publicJwk = JSON.stringify(keys.publicKey.export({ format: 'jwk' }));

  it('reads the keys at boot as the services will, naming the variable', () => {
    expect(loadConfig('gateway', gatewayConfigSchema, { AGENT_GRANT_PRIVATE_KEY: privateJwk })).toMatchObject({
      AGENT_GRANT_PRIVATE_KEY: privateJwk,
    });
    expect(loadConfig('ai-agent', agentConfigSchema, { AGENT_GRANT_PUBLIC_KEY: publicJwk })).toMatchObject({
      AGENT_GRANT_PUBLIC_KEY: publicJwk,
    });
    for (const [key, reason] of [
      ['not json', /AGENT_GRANT_PRIVATE_KEY: the grant key is not JSON \(value: set \(hidden\)\)/],
      [publicJwk, /AGENT_GRANT_PRIVATE_KEY: the grant signing key has no private part/],
      [
        '{"kty":"OKP","crv":"Ed25519","d":"x","x":"y"}',
        /AGENT_GRANT_PRIVATE_KEY: the grant key is not a valid Ed25519 JWK/,
      ],
    ] as const) {
      expect(() => loadConfig('gateway', gatewayConfigSchema, { AGENT_GRANT_PRIVATE_KEY: key })).toThrow(reason);
    }
    for (const [key, reason] of [
      ['not json', /AGENT_GRANT_PUBLIC_KEY: the grant key is not JSON/],
      ['{"kty":"oct","k":"abc"}', /AGENT_GRANT_PUBLIC_KEY: .*Ed25519/],
      ['{"kty":"OKP","crv":"Ed25519","x":"!"}', /AGENT_GRANT_PUBLIC_KEY: the grant key is not a valid Ed25519 JWK/],
    ] as const) {
      expect(() => loadConfig('ai-agent', agentConfigSchema, { AGENT_GRANT_PUBLIC_KEY: key })).toThrow(reason);
    }
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

describe('production refuses dev defaults, naming the variable', () => {
  // A real (non-development) run-grant key pair, which production also demands.
  const keys = generateKeyPairSync('ed25519');
  const prod = {
    NODE_ENV: 'production',
    DATABASE_URL: 'postgres://neonpro_authenticator:s3cret-long-enough@db.example.com:6543/postgres',
    SUPABASE_URL: 'https://abc.supabase.co',
    AGENT_GRANT_PRIVATE_KEY: JSON.stringify(keys.privateKey.export({ format: 'jwk' })),
  };
  const agentGrant = { AGENT_GRANT_PUBLIC_KEY: JSON.stringify(keys.publicKey.export({ format: 'jwk' })) };

  it('accepts a production configuration without dev values', () => {
    expect(() => loadConfig('gateway', gatewayConfigSchema, prod)).not.toThrow();
    expect(() =>
      loadConfig('ai-agent', agentConfigSchema, {
        NODE_ENV: 'production',
        DATABASE_URL: prod.DATABASE_URL,
        ...agentGrant,
      }),
    ).not.toThrow();
  });

  it.each([
    [
      'a loopback SUPABASE_URL',
      { SUPABASE_URL: 'https://127.0.0.1:54321' },
      /SUPABASE_URL: production refuses a loopback/,
    ],
    ['a JWKS over plain http', { SUPABASE_URL: 'http://auth.example.com' }, /SUPABASE_URL: production needs https/],
    [
      'a database URL without a password',
      { DATABASE_URL: 'postgres://app@db.example.com/postgres' },
      /DATABASE_URL: production needs a database URL with a password/,
    ],
    [
      'the dev database password',
      { DATABASE_URL: 'postgres://neonpro_authenticator:neonpro-authenticator-dev@db.example.com/postgres' },
      /DATABASE_URL: production refuses the dev database password/,
    ],
    ['the default database URL', { DATABASE_URL: undefined }, /DATABASE_URL: production refuses the dev/],
    ['an HS256 secret shorter than 32 bytes', { SUPABASE_JWT_SECRET: 'x'.repeat(31) }, /SUPABASE_JWT_SECRET/],
  ])('gateway: %s', (_label, over, message) => {
    expect(() => loadConfig('gateway', gatewayConfigSchema, { ...prod, ...over })).toThrow(message);
  });

  it('ai-agent and migrations: a database URL without a password', () => {
    expect(() =>
      loadConfig('ai-agent', agentConfigSchema, {
        NODE_ENV: 'production',
        DATABASE_URL: 'postgres://x@db.example.com/p',
      }),
    ).toThrow(/DATABASE_URL: production needs a database URL with a password/);
    expect(() => loadConfig('migrate', migrateConfigSchema, { NODE_ENV: 'production' })).toThrow(
      /DATABASE_MIGRATION_URL: production needs a database URL with a password/,
    );
  });

  it('development keeps its defaults', () => {
    expect(loadConfig('gateway', gatewayConfigSchema, {}).DATABASE_URL).toContain('neonpro_authenticator');
    expect(loadConfig('migrate', migrateConfigSchema, {}).DATABASE_MIGRATION_URL).toBe(
      'postgres://postgres@127.0.0.1:5432/neonpro',
    );
  });
});

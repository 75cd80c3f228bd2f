import { z } from 'zod';

/** Thrown at boot when the environment does not satisfy a service's schema. */
export class ConfigError extends Error {
  constructor(
    readonly service: string,
    readonly problems: readonly string[],
  ) {
    super(`Invalid configuration for ${service}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/**
 * Validates `env` against a service's schema. Empty strings count as unset so that
 * `FOO= npm start` falls back to the default instead of failing on "".
 */
export function loadConfig<S extends z.ZodType>(service: string, schema: S, env: Env = process.env): z.output<S> {
  const cleaned: Env = {};
  for (const [k, v] of Object.entries(env)) {
    if (v !== undefined && v !== '') {
      cleaned[k] = v;
    }
  }
  const result = schema.safeParse(cleaned);
  if (result.success) {
    return result.data;
  }
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.') || '(root)';
    const value = typeof issue.path[0] === 'string' ? cleaned[issue.path[0]] : undefined;
    const shown = value === undefined ? 'unset' : isSecretName(name) ? 'set (hidden)' : JSON.stringify(value);
    return `${name}: ${issue.message} (value: ${shown})`;
  });
  throw new ConfigError(service, problems);
}

function isSecretName(name: string): boolean {
  return /SECRET|PASSWORD|KEY|TOKEN|DATABASE_URL|REDIS_URL/i.test(name);
}

/** Prints a {@link ConfigError} readably and exits; anything else is rethrown. */
export function exitOnConfigError(err: unknown): never {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(78); // EX_CONFIG
  }
  throw err;
}

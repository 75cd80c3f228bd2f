import { z } from 'zod';

/** Reusable env field builders: every variable has a default or a clear message. */
export const env = {
  port: (def: number) => z.coerce.number().int().min(0).max(65535).default(def),
  int: (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max).default(def),
  bool: (def: boolean) => z.stringbool().default(def),
  str: (def: string) => z.string().default(def),
  url: (def: string, protocols: RegExp) =>
    z
      .string()
      .default(def)
      .refine((s) => {
        try {
          return protocols.test(new URL(s).protocol);
        } catch {
          return false;
        }
      }, `must be a URL with protocol matching ${protocols.source}`),
  logLevel: () => z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  nodeEnv: () => z.enum(['development', 'test', 'production']).default('development'),
};

/** NATS subject prefix: empty, or dot-separated tokens without wildcards. */
export const subjectPrefixSchema = z
  .string()
  .regex(/^([A-Za-z0-9_-]+\.?)*$/, 'must be dot-separated tokens of letters, digits, _ or -')
  .default('');

const optionalString = z.preprocess((v) => (v === '' ? undefined : v), z.string().min(1).optional());

/**
 * NATS connection settings shared by every service (see README "NATS credentials"). At most one
 * of user/password, token, nkey seed or creds file; TLS files for `tls://` or mutual TLS.
 */
export const natsEnvShape = {
  NATS_URL: env.url('nats://127.0.0.1:4222', /^(nats|tls|ws|wss):$/),
  NATS_SUBJECT_PREFIX: subjectPrefixSchema,
  NATS_USER: optionalString,
  NATS_PASSWORD: optionalString,
  NATS_TOKEN: optionalString,
  /** An nkey seed (`SU…`), for nkey authentication. */
  NATS_NKEY_SEED: optionalString,
  /** A `.creds` file (user JWT + nkey seed), for decentralised auth (NGS, operator mode). */
  NATS_CREDS_FILE: optionalString,
  NATS_TLS_CA_FILE: optionalString,
  NATS_TLS_CERT_FILE: optionalString,
  NATS_TLS_KEY_FILE: optionalString,
};

interface NatsEnv {
  NATS_USER?: string;
  NATS_PASSWORD?: string;
  NATS_TOKEN?: string;
  NATS_NKEY_SEED?: string;
  NATS_CREDS_FILE?: string;
  NATS_TLS_CERT_FILE?: string;
  NATS_TLS_KEY_FILE?: string;
}

/** Adds the cross-field rules of {@link natsEnvShape} to a service schema's refinement. */
export function checkNatsEnv(cfg: NatsEnv, ctx: z.RefinementCtx): void {
  const methods = [
    cfg.NATS_USER || cfg.NATS_PASSWORD ? 'NATS_USER' : undefined,
    cfg.NATS_TOKEN ? 'NATS_TOKEN' : undefined,
    cfg.NATS_NKEY_SEED ? 'NATS_NKEY_SEED' : undefined,
    cfg.NATS_CREDS_FILE ? 'NATS_CREDS_FILE' : undefined,
  ].filter(Boolean);
  if (methods.length > 1) {
    ctx.addIssue({
      code: 'custom',
      path: [methods[1]!],
      message: `set only one NATS auth method (${methods.join(', ')})`,
    });
  }
  if (Boolean(cfg.NATS_USER) !== Boolean(cfg.NATS_PASSWORD)) {
    ctx.addIssue({ code: 'custom', path: ['NATS_PASSWORD'], message: 'NATS_USER and NATS_PASSWORD go together' });
  }
  if (Boolean(cfg.NATS_TLS_CERT_FILE) !== Boolean(cfg.NATS_TLS_KEY_FILE)) {
    ctx.addIssue({
      code: 'custom',
      path: ['NATS_TLS_KEY_FILE'],
      message: 'NATS_TLS_CERT_FILE and NATS_TLS_KEY_FILE go together',
    });
  }
}

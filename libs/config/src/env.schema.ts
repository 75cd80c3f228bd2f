import { importGrantKey } from '@neonpro/contracts';
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
  /** An Ed25519 run-grant key as a JWK (`sign`: with its private part), read as the service will read it. */
  grantKey: (def: string, use: 'sign' | 'verify') =>
    z
      .string()
      .default(def)
      .superRefine((s, ctx) => {
        try {
          importGrantKey(s, use);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) });
        }
      }),
  logLevel: () => z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  nodeEnv: () => z.enum(['development', 'test', 'production']).default('development'),
};

/** NATS subject prefix: empty, or dot-separated tokens without wildcards. */
export const subjectPrefixSchema = z
  .string()
  .regex(/^([A-Za-z0-9_-]+\.?)*$/, 'must be dot-separated tokens of letters, digits, _ or -')
  .default('');

/** The services' dev login: `neonpro_authenticator` (created by a migration with this dev password). */
export const DEV_SERVICE_DATABASE_URL =
  'postgres://neonpro_authenticator:neonpro-authenticator-dev@127.0.0.1:5432/neonpro';
/** The migration owner's dev URL (local PostgreSQL, trust auth). */
export const DEV_MIGRATION_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/neonpro';
const DEV_PASSWORDS = new Set(['neonpro-authenticator-dev', 'postgres']);

function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127\./.test(h) || h === '0.0.0.0';
}

/**
 * With NODE_ENV=production, dev defaults stop the boot, naming the variable: a database URL
 * without a password (or with a dev one), a loopback Supabase URL, a JWKS fetched over plain
 * http (it comes from SUPABASE_URL), an HS256 secret shorter than 32 bytes.
 */
export function refuseDevDefaults(
  cfg: { NODE_ENV: string; [k: string]: unknown },
  ctx: z.RefinementCtx,
  keys: { databaseUrls?: string[]; supabaseUrl?: string; jwtSecret?: string },
): void {
  if (cfg.NODE_ENV !== 'production') {
    return;
  }
  const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  for (const k of keys.databaseUrls ?? []) {
    const v = cfg[k];
    if (typeof v !== 'string') {
      continue;
    }
    const password = decodeURIComponent(new URL(v).password);
    if (!password) {
      issue(k, 'production needs a database URL with a password');
    } else if (DEV_PASSWORDS.has(password)) {
      issue(k, 'production refuses the dev database password');
    }
  }
  const supabase = keys.supabaseUrl ? cfg[keys.supabaseUrl] : undefined;
  if (keys.supabaseUrl && typeof supabase === 'string') {
    const u = new URL(supabase);
    if (isLoopback(u.hostname)) {
      issue(keys.supabaseUrl, 'production refuses a loopback Supabase URL');
    }
    if (u.protocol !== 'https:') {
      issue(keys.supabaseUrl, 'production needs https: the JWKS that verifies tokens is fetched from this URL');
    }
  }
  const secret = keys.jwtSecret ? cfg[keys.jwtSecret] : undefined;
  if (keys.jwtSecret && typeof secret === 'string' && Buffer.byteLength(secret, 'utf8') < 32) {
    issue(keys.jwtSecret, 'production needs an HS256 secret of at least 32 bytes');
  }
}

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

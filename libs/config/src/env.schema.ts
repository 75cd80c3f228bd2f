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

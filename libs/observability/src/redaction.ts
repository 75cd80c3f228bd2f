/**
 * Log paths that may carry personal data (LGPD) or credentials. pino replaces them with
 * "[REDACTED]" wherever they appear, so a careless `logger.info({ body })` stays safe.
 */
export const REDACT_PATHS: string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-neonpro-claims"]',
  'res.headers["set-cookie"]',
  ...[
    'password',
    'access_token',
    'refresh_token',
    'token',
    'cpf',
    'cns',
    'rg',
    'phone',
    'email',
    'full_name',
    'name',
    'birth_date',
    'clinical_notes',
    'message',
    'content',
    'delta',
    'text',
    'body',
    'payload',
  ].flatMap((k) => [k, `*.${k}`, `*.*.${k}`]),
];

const CPF = /\b\d{3}\.?\d{3}\.?\d{3}-?\d{2}\b/g;
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
const PHONE = /(?:\+?55\s?)?\(?\d{2}\)?\s?9?\d{4}[-\s]?\d{4}\b/g;

/** Masks CPFs, e-mails and phone numbers in free text that must be logged (e.g. error messages). */
export function maskPii(text: string): string {
  return text.replace(EMAIL, '[EMAIL]').replace(CPF, '[CPF]').replace(PHONE, '[PHONE]');
}

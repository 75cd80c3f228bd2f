import { randomBytes } from 'node:crypto';

/** Deterministic PRNG so a failing fuzz case can be replayed from its seed. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NASTY_STRINGS = [
  '',
  ' ',
  "'; DROP TABLE patients; --",
  '" OR 1=1 --',
  '1; SELECT pg_sleep(10)',
  '../../etc/passwd',
  '<script>alert(1)</script>',
  '${jndi:ldap://x}',
  '\u0000',
  '\uD800',
  '‮ RTL override',
  '🧑‍⚕️💉🦷',
  'ção ñ ü ß 漢字 العربية',
  'a'.repeat(5000),
  '529.982.247-25',
  '%00%2e%2e',
  '{"nested":',
];

const NASTY_VALUES: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1e308,
  -0,
  [],
  {},
  [[[[]]]],
  { __proto__: { admin: true } },
  { constructor: { prototype: {} } },
];

/** One of `items`, chosen by `r` (the drills' seeded random). */
export function oneOf<T>(r: () => number, items: readonly T[]): T {
  const item = items[Math.floor(r() * items.length)];
  if (item === undefined) {
    throw new Error('oneOf an empty list');
  }
  return item;
}

export function nastyValue(r: () => number): unknown {
  const pick = r();
  if (pick < 0.5) {
    return NASTY_STRINGS[Math.floor(r() * NASTY_STRINGS.length)];
  }
  if (pick < 0.8) {
    return NASTY_VALUES[Math.floor(r() * NASTY_VALUES.length)];
  }
  return Math.floor(r() * 2 ** 31) - 2 ** 30;
}

/** A request body: malformed JSON, random bytes, a huge body, or JSON with nasty values. */
export function nastyBody(r: () => number, fields: string[]): { body: string | Buffer; contentType: string } {
  const kind = r();
  if (kind < 0.1) {
    return { body: randomBytes(1 + Math.floor(r() * 512)), contentType: 'application/json' };
  }
  if (kind < 0.2) {
    return { body: '{"message": "unterminated', contentType: 'application/json' };
  }
  if (kind < 0.25) {
    return { body: JSON.stringify({ message: 'x'.repeat(2_000_000) }), contentType: 'application/json' };
  }
  if (kind < 0.3) {
    return { body: 'message=hi', contentType: 'application/x-www-form-urlencoded' };
  }
  if (kind < 0.35) {
    return { body: '[1,2,3]', contentType: 'application/json' };
  }
  if (kind < 0.4) {
    return { body: '{"a":'.repeat(2000) + '1' + '}'.repeat(2000), contentType: 'application/json' };
  }
  const obj: Record<string, unknown> = {};
  for (const f of fields) {
    if (r() < 0.8) {
      obj[f] = nastyValue(r);
    }
  }
  if (r() < 0.3) {
    obj[String(nastyValue(r))] = nastyValue(r);
  }
  return { body: JSON.stringify(obj), contentType: 'application/json' };
}

/** encodeURIComponent that survives lone surrogates (they are replaced, not thrown on). */
export function safeEncode(value: string): string {
  return encodeURIComponent(
    value.replace(/[\uD800-\uDFFF]/g, (c, i: number, all: string) => {
      const code = c.charCodeAt(0);
      const pairOk =
        (code < 0xdc00 && (all.charCodeAt(i + 1) & 0xfc00) === 0xdc00) ||
        (code >= 0xdc00 && (all.charCodeAt(i - 1) & 0xfc00) === 0xd800);
      return pairOk ? c : '\uFFFD';
    }),
  );
}

export function nastyPathSegment(r: () => number): string {
  const v = nastyValue(r);
  return safeEncode(typeof v === 'string' ? v : (JSON.stringify(v) ?? 'x')).slice(0, 300) || 'x';
}

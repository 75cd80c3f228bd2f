import { fold } from '@neonpro/text';

/** Kinds of personal data replaced before text leaves for an external provider. */
export type PiiKind = 'PACIENTE' | 'CPF' | 'CNS' | 'RG' | 'TELEFONE' | 'EMAIL' | 'CEP';

interface Detector {
  kind: Exclude<PiiKind, 'PACIENTE'>;
  pattern: RegExp;
  /** Canonical form, so "529.982.247-25" and "52998224725" share one placeholder. */
  canonical: (match: string) => string;
}

const digits = (s: string): string => s.replace(/\D/g, '');

// Order matters: longer / more specific numbers first so a CNS is not read as a phone, etc.
const DETECTORS: Detector[] = [
  { kind: 'EMAIL', pattern: /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g, canonical: (m) => m.toLowerCase() },
  // CNS: 15 digits starting 1, 2, 7, 8 or 9, often grouped 3-4-4-4.
  { kind: 'CNS', pattern: /(?<!\d)[1-27-9]\d{2}[ .]?\d{4}[ .]?\d{4}[ .]?\d{4}(?!\d)/g, canonical: digits },
  { kind: 'CPF', pattern: /(?<!\d)\d{3}\.?\d{3}\.?\d{3}-?\d{2}(?!\d)/g, canonical: digits },
  {
    kind: 'TELEFONE',
    pattern: /(?:\+?55[\s.-]?)?(?:\(\d{2}\)|(?<!\d)\d{2})[\s.-]?9?\d{4}[\s.-]?\d{4}(?!\d)/g,
    canonical: (m) => digits(m).replace(/^55(?=\d{10,11}$)/, ''),
  },
  { kind: 'CEP', pattern: /(?<!\d)\d{5}-\d{3}(?!\d)|(?<=\bCEP:?\s?)\d{8}(?!\d)/gi, canonical: digits },
  // RG: the SP-style "12.345.678-9" / "12.345.678-X" format, or any number right after "RG".
  {
    kind: 'RG',
    pattern: /(?<!\d)\d{1,2}\.\d{3}\.\d{3}-[\dXx](?![\d])|(?<=\bRG:?\s?(?:n[º°o]\.?\s?)?)[\dXx.-]{5,14}\d/gi,
    canonical: (m) => m.replace(/[^\dXx]/g, '').toUpperCase(),
  },
];

/**
 * Record ids (UUIDs) are opaque, not personal data, and must reach the provider intact so its
 * tool calls name the right record. Their digit runs can look like a phone ("…a88-4701-8648-…"),
 * so the number detectors never look inside one.
 */
const RECORD_ID = /(?<![0-9a-f])[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![0-9a-f])/gi;

const PLACEHOLDER = /\[(PACIENTE|CPF|CNS|RG|TELEFONE|EMAIL|CEP)_(\d+)\]/g;

/** Lower case, no accents, single spaces: how names are compared. */
export function foldName(s: string): string {
  return fold(s).replace(/\s+/g, ' ').trim();
}

/** Punctuation inside a name (D'Ávila, D"Ávila, Ana-Lúcia): typed or not, the same name. */
const INNER_PUNCT = /(?<=\p{L})['’"`´-](?=\p{L})/gu;
const INNER_PUNCT_PATTERN = '[\'’"`´-]?';

/** Name particles: never distinctive on their own. */
const PARTICLES = new Set(['da', 'de', 'do', 'das', 'dos', 'e', 'di', 'du']);

/**
 * The ways a user types a patient's name: the full name, first + last name, and any two
 * consecutive distinctive parts ("Maria Araújo Pereira" → "maria araujo pereira",
 * "maria pereira", "maria araujo", "araujo pereira"). Folded (see {@link foldName}).
 */
export function nameVariants(fullName: string): string[] {
  const folded = foldName(fullName).replace(INNER_PUNCT, '');
  const parts = folded.split(' ').filter((w) => w.length >= 2 && !PARTICLES.has(w));
  const out = new Set([folded]);
  if (parts.length >= 2) {
    out.add(`${parts[0]} ${parts[parts.length - 1]}`);
    for (let i = 0; i + 1 < parts.length; i++) {
      out.add(`${parts[i]} ${parts[i + 1]}`);
    }
  }
  return [...out].filter((v) => v.length >= 3);
}

/** The folded words of a text worth looking up as patient name parts (3+ letters). */
export function candidateNameWords(text: string): string[] {
  const words =
    foldName(text)
      .replace(INNER_PUNCT, '')
      .match(/\p{L}{3,}/gu) ?? [];
  return [...new Set(words.filter((w) => !PARTICLES.has(w)))];
}

/** The patients (of `candidates`) whose full name or a distinctive variant occurs in `text`. */
export function namesMentioned<T extends { full_name: string }>(text: string, candidates: readonly T[]): T[] {
  const folded = ` ${foldName(text)
    .replace(INNER_PUNCT, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')} `;
  return candidates.filter((c) => nameVariants(c.full_name).some((v) => folded.includes(` ${v} `)));
}

/**
 * Dates tied to a patient's identity (birth dates) removed from a tool result before it goes to
 * an external model: keys named like a birth date lose their value, whatever the nesting.
 */
export function maskIdentityDates<T>(value: T): T {
  if (Array.isArray(value)) {
    return value.map((v: unknown) => maskIdentityDates(v)) as T;
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        /birth|nascimento|dob$/i.test(k) && v !== null && v !== undefined ? '[DATA_NASCIMENTO]' : maskIdentityDates(v),
      ]),
    ) as T;
  }
  return value;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Replaces personal data with placeholders that stay stable for the lifetime of the instance
 * (one conversation run): the same CPF or patient name always maps to the same `[CPF_n]` /
 * `[PACIENTE_n]`, so the provider can still reason about "the same patient". The mapping never
 * leaves this process.
 */
export class Pseudonymizer {
  private readonly toPlaceholder = new Map<string, string>();
  private readonly toValue = new Map<string, string>();
  private readonly counters = new Map<PiiKind, number>();
  private readonly names: { folded: string; display: string; key: string }[] = [];

  /**
   * Registers a patient's name (e.g. from a tool result, or a clinic patient the user named) so
   * it is replaced wherever it appears: the full name and its distinctive variants (first + last,
   * two consecutive parts) all map to the patient's one placeholder, restored as the full name.
   */
  registerName(fullName: string): string {
    const display = fullName.replace(/\s+/g, ' ').trim();
    const folded = foldName(display);
    if (folded.length < 3) {
      return display;
    }
    const placeholder = this.placeholderFor('PACIENTE', `name:${folded}`, display);
    for (const variant of nameVariants(display)) {
      if (this.names.some((n) => n.folded === variant)) {
        continue;
      }
      this.names.push({ folded: variant, display, key: `name:${folded}` });
    }
    // Longest first so "Maria Silva Souza" wins over "Maria Silva".
    this.names.sort((a, b) => b.folded.length - a.folded.length);
    return placeholder;
  }

  pseudonymize(text: string): string {
    let out = text;
    for (const name of this.names) {
      // Accent-, case- and inner-punctuation-insensitive: a pattern over the folded letters.
      const letters = [...name.folded].map((ch) => (ch === ' ' ? '\\s+' : `${escapeRegExp(ch)}\\p{M}*`));
      const body = letters
        .map((l, i) => (i > 0 && l !== '\\s+' && letters[i - 1] !== '\\s+' ? INNER_PUNCT_PATTERN + l : l))
        .join('');
      const pattern = new RegExp(`(?<![\\p{L}])${body}(?![\\p{L}])`, 'giu');
      out = out.normalize('NFD').replace(pattern, () => this.placeholderFor('PACIENTE', name.key, name.display));
      out = out.normalize('NFC');
    }
    let result = '';
    let from = 0;
    for (const id of out.matchAll(RECORD_ID)) {
      result += this.replaceNumbers(out.slice(from, id.index)) + id[0];
      from = id.index + id[0].length;
    }
    return result + this.replaceNumbers(from === 0 ? out : out.slice(from));
  }

  private replaceNumbers(text: string): string {
    let out = text;
    for (const d of DETECTORS) {
      out = out.replace(d.pattern, (m) => this.placeholderFor(d.kind, `${d.kind}:${d.canonical(m)}`, m));
    }
    return out;
  }

  /** Puts the original values back; unknown placeholders are left as they are. */
  restore(text: string): string {
    return text.replace(PLACEHOLDER, (m) => this.toValue.get(m) ?? m);
  }

  /** Restores placeholders inside any JSON-like value (e.g. tool call arguments). */
  restoreDeep<T>(value: T): T {
    if (typeof value === 'string') {
      return this.restore(value) as T;
    }
    if (Array.isArray(value)) {
      return value.map((v: unknown) => this.restoreDeep(v)) as T;
    }
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.restoreDeep(v)])) as T;
    }
    return value;
  }

  private placeholderFor(kind: PiiKind, key: string, original: string): string {
    const known = this.toPlaceholder.get(key);
    if (known) {
      return known;
    }
    const n = (this.counters.get(kind) ?? 0) + 1;
    this.counters.set(kind, n);
    const placeholder = `[${kind}_${n}]`;
    this.toPlaceholder.set(key, placeholder);
    this.toValue.set(placeholder, original);
    return placeholder;
  }
}

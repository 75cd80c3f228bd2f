import { isValidCpf, makeCpf, normalizeCpf } from './cpf.js';
import pg from 'pg';
import { sqlLiteral, timestamptzToIso } from './database.js';
import { decodeCursor, encodeCursor, InvalidCursorError, toPage } from './pagination.js';

describe('CPF', () => {
  it('normalises punctuation and validates both check digits', () => {
    expect(normalizeCpf('529.982.247-25')).toBe('52998224725');
    expect(isValidCpf('529.982.247-25')).toBe(true);
    expect(isValidCpf('52998224724')).toBe(false);
    expect(isValidCpf('111.111.111-11')).toBe(false);
    expect(isValidCpf('1234567890')).toBe(false);
  });

  it('builds valid CPFs from nine digits', () => {
    expect(makeCpf('529982247')).toBe('52998224725');
    for (const base of ['000000001', '123456789', '987654321', '390533447']) {
      expect(isValidCpf(makeCpf(base))).toBe(true);
    }
  });
});

describe('keyset cursors', () => {
  it('round-trips and rejects garbage', () => {
    const c = { k: '2026-01-01T00:00:00.123456Z', id: 'a' };
    expect(decodeCursor(encodeCursor(c))).toEqual(c);
    expect(decodeCursor(undefined)).toBeUndefined();
    expect(() => decodeCursor('garbage')).toThrow(InvalidCursorError);
  });

  it('emits a next cursor only when there is a further row', () => {
    const rows = [1, 2, 3].map((n) => ({ id: String(n) }));
    expect(toPage(rows, 3, (r) => ({ k: r.id, id: r.id })).next_cursor).toBeNull();
    const page = toPage(rows, 2, (r) => ({ k: r.id, id: r.id }));
    expect(page.data).toHaveLength(2);
    expect(decodeCursor(page.next_cursor!)).toEqual({ k: '2', id: '2' });
  });
});

describe('timestamptz parsing', () => {
  it('keeps microseconds, in UTC', () => {
    expect(timestamptzToIso('2026-11-26 20:32:23.637745+00')).toBe('2026-11-26T20:32:23.637745Z');
    expect(timestamptzToIso('2026-11-26 17:32:23.5-03')).toBe('2026-11-26T20:32:23.500Z');
    expect(timestamptzToIso('2026-11-26 20:32:23+00')).toBe('2026-11-26T20:32:23.000Z');
  });
});

describe('sqlLiteral', () => {
  it("matches pg's escapeLiteral (quotes, backslashes, JSON, unicode)", () => {
    const samples = [
      '',
      'plain',
      "o'brien",
      "''",
      'a\\b',
      "x\\'y",
      JSON.stringify({ sub: 'u1', name: 'Zé "Q" \\ d\'Ávila', n: 1 }),
      '\u00e7\n\t',
    ];
    for (const s of samples) {
      expect(sqlLiteral(s)).toBe(pg.Client.prototype.escapeLiteral(s));
    }
  });
});

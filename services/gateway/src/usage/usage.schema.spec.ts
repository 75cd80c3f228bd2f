import { addDays, localToday, usageQuerySchema, usageWindow } from './usage.schema.js';

describe('usage query', () => {
  const now = new Date('2026-03-01T02:00:00Z'); // still 28 Feb in São Paulo (UTC-3)

  it("defaults to the 30 days ending today in the clinic's time zone", () => {
    expect(localToday('America/Sao_Paulo', now)).toBe('2026-02-28');
    const q = usageQuerySchema.parse({});
    expect(q.granularity).toBe('day');
    expect(usageWindow(q, 'America/Sao_Paulo', now)).toEqual({ from: '2026-01-30', to: '2026-02-28' });
  });

  it('a lone from spans 30 days, never past today', () => {
    expect(usageWindow(usageQuerySchema.parse({ from: '2026-02-20' }), 'UTC', now)).toEqual({
      from: '2026-02-20',
      to: '2026-03-01',
    });
    expect(addDays('2026-02-28', 1)).toBe('2026-03-01');
  });

  it.each([
    [{ granularity: 'hour' }],
    [{ from: '2026-02-30' }],
    [{ from: '2026-03-02', to: '2026-03-01' }],
    [{ from: '2025-01-01', to: '2026-03-01', granularity: 'day' }],
    [{ extra: '1' }],
  ])('refuses %j', (q) => {
    expect(usageQuerySchema.safeParse(q).success).toBe(false);
  });

  it('allows a year of weeks or months', () => {
    expect(usageQuerySchema.safeParse({ from: '2025-03-01', to: '2026-03-01', granularity: 'week' }).success).toBe(
      true,
    );
  });
});

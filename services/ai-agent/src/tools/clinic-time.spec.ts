import { addMinutes, localDate, localTime, zonedIso } from './clinic-time.js';

describe('clinic time', () => {
  it("gives the zone's date on both sides of its midnight, asked again within the same minute", () => {
    // 02:59:30 UTC is 23:59:30 in São Paulo (UTC-3): still the 1st there, already the 2nd in UTC.
    const before = new Date('2026-12-02T02:59:30Z');
    expect(localDate(before, 'America/Sao_Paulo')).toBe('2026-12-01');
    expect(localDate(new Date('2026-12-02T02:59:59Z'), 'America/Sao_Paulo')).toBe('2026-12-01');
    expect(localDate(before, 'UTC')).toBe('2026-12-02');
    // The next minute is the next day in São Paulo.
    expect(localDate(new Date('2026-12-02T03:00:00Z'), 'America/Sao_Paulo')).toBe('2026-12-02');
    // Back to an earlier instant: computed again, not the last answer.
    expect(localDate(before, 'America/Sao_Paulo')).toBe('2026-12-01');
    expect(localDate(new Date('2026-12-02T03:00:00Z'), 'Asia/Kolkata')).toBe('2026-12-02');
  });

  it('converts wall-clock times of the zone to instants and back', () => {
    const iso = zonedIso('2026-12-01', '14:30', 'America/Sao_Paulo');
    expect(iso).toBe('2026-12-01T14:30:00-03:00');
    expect(localTime(new Date(iso), 'America/Sao_Paulo')).toBe('14:30');
    expect(addMinutes(iso, 45, 'America/Sao_Paulo')).toBe('2026-12-01T15:15:00-03:00');
  });
});

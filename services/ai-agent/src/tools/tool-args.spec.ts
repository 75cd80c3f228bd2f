import { hhmm, isoDate } from './tool-args.js';

describe('tool argument shapes', () => {
  it.each(['2026-12-01', '2028-02-29', '2026-04-30'])('isoDate accepts the calendar day %s', (d) => {
    expect(isoDate.safeParse(d).success).toBe(true);
  });

  // Date.UTC would roll each of these over to another day without a word.
  it.each(['2026-02-31', '2026-02-29', '2026-13-01', '2026-04-31', '2026-00-10', '2026-1-5', '01/12/2026'])(
    'isoDate refuses %s',
    (d) => {
      expect(isoDate.safeParse(d).success).toBe(false);
    },
  );

  it.each([
    ['09:30', true],
    ['23:59', true],
    ['24:00', false],
    ['9:30', false],
  ])('hhmm %s → %s', (t, ok) => {
    expect(hhmm.safeParse(t).success).toBe(ok);
  });
});

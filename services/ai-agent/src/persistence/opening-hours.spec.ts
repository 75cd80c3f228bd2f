import { openingWindow } from './opening-hours.js';

describe('openingWindow', () => {
  const aurora = { 'mon-fri': '08:00-18:00', sat: '08:00-12:00' };

  it('reads weekday ranges and single days', () => {
    expect(openingWindow(aurora, '2026-03-02')).toEqual({ start: '08:00', end: '18:00' }); // Monday
    expect(openingWindow(aurora, '2026-03-06')).toEqual({ start: '08:00', end: '18:00' }); // Friday
    expect(openingWindow(aurora, '2026-03-07')).toEqual({ start: '08:00', end: '12:00' }); // Saturday
  });

  it('is closed on days not listed', () => {
    expect(openingWindow(aurora, '2026-03-08')).toBeUndefined(); // Sunday
  });

  it('falls back when the hours are missing or unreadable', () => {
    expect(openingWindow({}, '2026-03-08')).toEqual({ start: '08:00', end: '18:00' });
    expect(openingWindow({ always: 'open' }, '2026-03-08')).toEqual({ start: '08:00', end: '18:00' });
  });
});

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

function dayIndex(name: string): number {
  return DAYS.indexOf(name.trim().slice(0, 3).toLowerCase() as (typeof DAYS)[number]);
}

/**
 * The opening window of a local date from a clinic's `opening_hours` (e.g.
 * `{"mon-fri": "08:00-18:00", "sat": "08:00-12:00"}`); undefined when the clinic is closed.
 * Unknown formats fall back to `fallback` rather than hiding every slot.
 */
export function openingWindow(
  hours: Record<string, string> | null | undefined,
  date: string,
  fallback: { start: string; end: string } = { start: '08:00', end: '18:00' },
): { start: string; end: string } | undefined {
  const entries = Object.entries(hours ?? {});
  if (entries.length === 0) {
    return fallback;
  }
  const weekday = new Date(`${date}T12:00:00Z`).getUTCDay();
  let understood = false;
  for (const [days, range] of entries) {
    const [, start, end] = /^(\d{2}:\d{2})\s*-\s*(\d{2}:\d{2})$/.exec(range.trim()) ?? [];
    const [from = -1, to = from] = days.split('-').map(dayIndex);
    if (start === undefined || end === undefined || from < 0 || to < 0) {
      continue;
    }
    understood = true;
    const inRange = from <= to ? weekday >= from && weekday <= to : weekday >= from || weekday <= to;
    if (inRange) {
      return { start, end };
    }
  }
  return understood ? undefined : fallback;
}

/**
 * Date tokens of the golden set, resolved against the clinic's today. Written apart from the
 * agent's own date parsing on purpose: the eval must not share the code it checks.
 */
const DOW = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

function shift(date: string, days: number): string {
  const d = new Date(`${date}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

function monthStart(today: string, delta: number): string {
  const d = new Date(`${today.slice(0, 7)}-01T12:00:00Z`);
  d.setUTCMonth(d.getUTCMonth() + delta);
  return d.toISOString().slice(0, 10);
}

export function resolveDate(token: string, today: string): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(token)) {
    return token;
  }
  const dow = new Date(`${today}T12:00:00Z`).getUTCDay();
  let m = /^\$(today|mon)([+-]\d+)?$/.exec(token);
  if (m) {
    const base = m[1] === 'today' ? today : shift(today, -((dow + 6) % 7));
    return shift(base, Number(m[2] ?? 0));
  }
  m = /^\$(monthstart|monthend)([+-]\d+)?$/.exec(token);
  if (m) {
    const delta = Number(m[2] ?? 0);
    return m[1] === 'monthstart' ? monthStart(today, delta) : shift(monthStart(today, delta + 1), -1);
  }
  m = /^\$day:(\d{1,2})$/.exec(token);
  if (m) {
    const day = Number(m[1]);
    const options = [-1, 0, 1]
      .map((d) => `${monthStart(today, d).slice(0, 8)}${String(day).padStart(2, '0')}`)
      .filter(
        (d) =>
          !Number.isNaN(new Date(`${d}T12:00:00Z`).getTime()) && new Date(`${d}T12:00:00Z`).toISOString().startsWith(d),
      );
    const dist = (d: string) => Math.abs(Date.parse(`${d}T12:00:00Z`) - Date.parse(`${today}T12:00:00Z`));
    const [nearest] = options.sort((a, b) => dist(a) - dist(b));
    if (nearest === undefined) {
      throw new Error(`no day ${day} near ${today} in ${token}`);
    }
    return nearest;
  }
  m = /^\$(next|prev):([a-z]{3})$/.exec(token);
  if (m) {
    const target = DOW.indexOf(m[2] ?? '');
    if (target < 0) {
      throw new Error(`bad weekday in ${token}`);
    }
    if (m[1] === 'next') {
      return shift(today, (target - dow + 7) % 7);
    }
    return shift(today, -((dow - target + 7) % 7 || 7));
  }
  throw new Error(`unknown date token ${token}`);
}

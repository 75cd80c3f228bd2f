/** Calendar arithmetic in the clinic's time zone (America/Sao_Paulo by default). */
export const DEFAULT_TIMEZONE = 'America/Sao_Paulo';

const partsCache = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = partsCache.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone: tz,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    partsCache.set(tz, f);
  }
  return f;
}

interface Parts {
  year: string;
  month: string;
  day: string;
  hour: string;
  minute: string;
  second: string;
}

function parts(instant: Date, tz: string): Parts {
  const p: Partial<Record<string, string>> = Object.fromEntries(
    formatter(tz)
      .formatToParts(instant)
      .map((p) => [p.type, p.value]),
  );
  const { year, month, day, hour, minute, second } = p;
  // The formatter asks for all six fields, so Intl always returns them.
  if (year === undefined || month === undefined || day === undefined) {
    throw new Error(`Intl returned no date parts for ${tz}`);
  }
  if (hour === undefined || minute === undefined || second === undefined) {
    throw new Error(`Intl returned no time parts for ${tz}`);
  }
  return { year, month, day, hour, minute, second };
}

/** Numbers of a YYYY-MM-DD date (tool arguments and turn config are validated to that shape). */
export function dateNumbers(date: string): [number, number, number] {
  const [y, m, d] = date.split('-').map(Number);
  if (y === undefined || m === undefined || d === undefined) {
    throw new Error(`not a YYYY-MM-DD date: ${date}`);
  }
  return [y, m, d];
}

/**
 * The last date computed per zone, by UTC minute: every turn asks for today's date, and Intl's
 * `formatToParts` was about 1 % of the agent's CPU under chat load. Zone offsets are whole minutes.
 */
const lastDate = new Map<string, { minute: number; date: string }>();

/** YYYY-MM-DD of an instant in `tz`. */
export function localDate(instant: Date, tz: string): string {
  const minute = Math.floor(instant.getTime() / 60000);
  const last = lastDate.get(tz);
  if (last?.minute === minute) {
    return last.date;
  }
  const p = parts(instant, tz);
  const date = `${p.year}-${p.month}-${p.day}`;
  lastDate.set(tz, { minute, date });
  return date;
}

/** HH:mm of an instant in `tz`. */
export function localTime(instant: Date, tz: string): string {
  const p = parts(instant, tz);
  return `${p.hour}:${p.minute}`;
}

/** Offset of `tz` from UTC at `instant`, in minutes (e.g. -180 for São Paulo). */
function offsetMinutes(instant: Date, tz: string): number {
  const p = parts(instant, tz);
  const asUtc = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
  return Math.round((asUtc - Math.floor(instant.getTime() / 1000) * 1000) / 60000);
}

/** ISO 8601 with the zone's offset for a wall-clock date and time in `tz`. */
export function zonedIso(date: string, time: string, tz: string): string {
  const [y, m, d] = dateNumbers(date);
  const [hh, mm] = time.split(':').map(Number);
  if (hh === undefined || mm === undefined) {
    throw new Error(`not an HH:mm time: ${time}`);
  }
  const guess = Date.UTC(y, m - 1, d, hh, mm);
  const offset = offsetMinutes(new Date(guess - offsetMinutes(new Date(guess), tz) * 60000), tz);
  const sign = offset <= 0 ? '-' : '+';
  const abs = Math.abs(offset);
  const off = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${date}T${String(hh).padStart(2, '0')}:${String(mm).padStart(2, '0')}:00${off}`;
}

export function addDays(date: string, days: number): string {
  const [y, m, d] = dateNumbers(date);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** 0 = Sunday … 6 = Saturday. */
export function weekday(date: string): number {
  const [y, m, d] = dateNumbers(date);
  return new Date(Date.UTC(y, m - 1, d)).getUTCDay();
}

export function addMinutes(iso: string, minutes: number, tz: string): string {
  const end = new Date(new Date(iso).getTime() + minutes * 60000);
  return zonedIso(localDate(end, tz), localTime(end, tz), tz);
}

/** ISO 8601 in UTC, keeping Postgres' microseconds (keyset cursors must round-trip exactly). */
export function timestamptzToIso(v: string): string {
  const iso = new Date(v).toISOString();
  const frac = /\d{2}:\d{2}:\d{2}\.(\d{4,6})/.exec(v)?.[1];
  return frac ? iso.replace(/\.\d{3}Z$/, `.${frac}Z`) : iso;
}

/** An opaque keyset cursor: a sort key and the row id, base64url-encoded. Never holds personal data. */
export interface Cursor {
  k: string;
  id: string;
}

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

export class InvalidCursorError extends Error {
  readonly code = 'invalid_cursor';
}

export function decodeCursor(raw: string | undefined): Cursor | undefined {
  if (!raw) {
    return undefined;
  }
  try {
    const c = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Partial<Cursor>;
    if (typeof c.k === 'string' && typeof c.id === 'string') {
      return { k: c.k, id: c.id };
    }
  } catch {
    // fall through
  }
  throw new InvalidCursorError('cursor is not valid');
}

/** Fetch limit+1 rows; the extra one only tells whether a next page exists. */
export function toPage<T>(rows: T[], limit: number, key: (row: T) => Cursor): Page<T> {
  const data = rows.slice(0, limit);
  const last = data[data.length - 1];
  return { data, next_cursor: rows.length > limit && last ? encodeCursor(key(last)) : null };
}

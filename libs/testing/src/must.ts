/**
 * The value a test relies on (a first row, a map entry), or a failure that says what was missing:
 * clearer than a TypeError on `undefined`, and no `!` that would hide it.
 */
export function must<T>(value: T | undefined, what: string): T {
  if (value === undefined) {
    throw new Error(`expected ${what}, found none`);
  }
  return value;
}

/** `npm run drill` sets DRILL_MODE=full (minutes); `npm test` runs the short form (seconds). */
export const FULL = process.env.DRILL_MODE === 'full';

export function scaled(shortValue: number, fullValue: number): number {
  return FULL ? fullValue : shortValue;
}

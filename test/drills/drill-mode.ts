/** `npm run drill` sets DRILL_MODE=full (minutes); `npm test` runs the short form (seconds). */
export const FULL = process.env.DRILL_MODE === 'full';

export function scaled(shortValue: number, fullValue: number): number {
  return FULL ? fullValue : shortValue;
}

/** Drills measure recovery and robustness, not the limiter: lift the rate limits out of the way. */
export const UNLIMITED: Record<string, string> = {
  RATE_LIMIT_AI_LIMIT: '1000000',
  RATE_LIMIT_AI_CLINIC_LIMIT: '1000000',
  RATE_LIMIT_DEFAULT_LIMIT: '1000000',
  RATE_LIMIT_HEALTHCARE_LIMIT: '1000000',
  RATE_LIMIT_AUTH_LIMIT: '1000000',
};

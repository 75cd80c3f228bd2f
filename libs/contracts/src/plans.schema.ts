import { z } from 'zod';

/** Unprefixed NATS subject of plan changes; the deployed subject is `<prefix>.plans.changed`. */
export const PLANS_CHANGED_PATTERN = 'plans.changed';

/**
 * Broadcast (no queue group) by the plan CLI after a change: every gateway replica drops the
 * cached plan. `clinic_id: null` means the default plan changed, so every cached plan is dropped.
 */
export const plansChangedSchema = z.object({
  clinic_id: z.guid().nullable(),
});
export type PlansChanged = z.infer<typeof plansChangedSchema>;

export function plansChangedSubject(prefix = ''): string {
  const p = prefix === '' || prefix.endsWith('.') ? prefix : `${prefix}.`;
  return `${p}${PLANS_CHANGED_PATTERN}`;
}

import { z } from 'zod';
import { actionProposalSchema } from '../tools/action-proposal.js';

/** Key of the turn's facts in the runnable config's `configurable`. */
export const CLINIC_TURN_KEY = 'clinic_turn';

/**
 * What a model needs to know about this turn beyond the messages: the clinic's today and the
 * proposal waiting for confirmation. It travels in the runnable config (`configurable`), not in
 * marker lines of the prompt; hosted models read the same facts in the system prompt's prose.
 */
export const clinicTurnSchema = z.object({
  today: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  timezone: z.string(),
  pending_proposal: actionProposalSchema.optional(),
  /** The request's `confirm.proposal_id`, when the user pressed Confirm. */
  confirm_id: z.string().optional(),
});
export type ClinicTurn = z.infer<typeof clinicTurnSchema>;

/** The `configurable` of a run carrying `turn`. */
export function turnConfigurable(turn: ClinicTurn): Record<string, unknown> {
  return { [CLINIC_TURN_KEY]: turn };
}

/** The turn facts in a runnable config, if it carries valid ones. */
export function clinicTurnOf(configurable: Record<string, unknown> | undefined): ClinicTurn | undefined {
  const parsed = clinicTurnSchema.safeParse(configurable?.[CLINIC_TURN_KEY]);
  return parsed.success ? parsed.data : undefined;
}

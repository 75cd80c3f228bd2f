import { createHash } from 'node:crypto';
import { foldWords } from '@neonpro/text';
import { z } from 'zod';

/**
 * A booking or cancellation the assistant proposed and the user still has to confirm. It is
 * stored with the assistant message that asked, so the confirmation can come in the next turn
 * (on any replica), and its id ties the confirmation to exactly this proposal.
 */
export const actionProposalSchema = z.discriminatedUnion('action', [
  z.object({
    id: z.string(),
    action: z.literal('book'),
    patient_id: z.guid(),
    patient_name: z.string(),
    professional_id: z.guid(),
    professional_name: z.string(),
    starts_at: z.string(),
    ends_at: z.string(),
    procedure: z.string(),
  }),
  z.object({
    id: z.string(),
    action: z.literal('cancel'),
    appointment_id: z.guid(),
    patient_name: z.string(),
    professional_name: z.string(),
    starts_at: z.string(),
    procedure: z.string(),
  }),
]);
export type ActionProposal = z.infer<typeof actionProposalSchema>;
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

function sha(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The proposal id is a digest of its content, so the same proposal always has the same id. */
export function makeProposal<T extends WithoutId<ActionProposal>>(p: T): T & { id: string } {
  const body = JSON.stringify(Object.entries(p).sort(([a], [b]) => a.localeCompare(b)));
  return { ...p, id: `p-${sha(body).slice(0, 10)}` };
}

/** One booking per session and proposal, whatever the number of retries. */
export function idempotencyKey(sessionId: string, proposal: ActionProposal): string {
  return `agent:${proposal.action}:${sha(`${sessionId}:${proposal.id}`).slice(0, 32)}`;
}

const NEGATIVE = /\b(nao|no|nope|cancela isso|espera|wait|don ?t|dont|nunca|negativo)\b/;
const AFFIRMATIVE =
  /^(sim|s|isso|confirmo|confirmado|confirma|confirmar|pode|pode confirmar|pode agendar|pode marcar|pode cancelar|correto|certo|perfeito|yes|y|yep|confirm|confirmed|i confirm|go ahead|do it|please do|ok confirmo|ok pode|ok confirm)\b/;

/**
 * Whether the user's message is an explicit "yes" to the pending proposal. Deliberately strict:
 * anything hesitant or negative is not a confirmation.
 */
export function isExplicitConfirmation(message: string): boolean {
  const text = foldWords(message);
  if (!text || NEGATIVE.test(text)) {
    return false;
  }
  return AFFIRMATIVE.test(text);
}

export function isExplicitRefusal(message: string): boolean {
  const text = foldWords(message);
  return /^(nao|no|nope|negativo|cancela|deixa|esquece|never mind|forget it)\b/.test(text);
}

import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { fold } from '@neonpro/text';

/** How long a proposal can be confirmed after it was shown. */
export const PROPOSAL_TTL_MS = 15 * 60_000;

const common = {
  id: z.string(),
  patient_name: z.string(),
  professional_name: z.string(),
  procedure: z.string(),
  /** ISO instant after which the proposal can no longer be confirmed. */
  expires_at: z.iso.datetime({ offset: true }),
  /** What the user was shown, rendered by the server from the validated arguments. */
  summary: z.string(),
};

/**
 * A booking, cancellation or rescheduling the assistant proposed and the user still has to
 * confirm. It is created by the server from the tool's validated arguments and stored with the
 * assistant message that showed it, so the confirmation can come in the next turn (on any
 * replica), and its id ties the confirmation to exactly this proposal.
 */
export const actionProposalSchema = z.discriminatedUnion('action', [
  z.object({
    ...common,
    action: z.literal('book'),
    patient_id: z.guid(),
    professional_id: z.guid(),
    starts_at: z.string(),
    ends_at: z.string(),
  }),
  z.object({
    ...common,
    action: z.literal('cancel'),
    appointment_id: z.guid(),
    starts_at: z.string(),
  }),
  z.object({
    ...common,
    action: z.literal('reschedule'),
    appointment_id: z.guid(),
    /** The appointment's current start, as shown. */
    from_starts_at: z.string(),
    starts_at: z.string(),
    ends_at: z.string(),
  }),
]);
export type ActionProposal = z.infer<typeof actionProposalSchema>;
export type ProposalAction = ActionProposal['action'];
type Draft<T> = T extends unknown ? Omit<T, 'id' | 'expires_at'> : never;
export type ProposalDraft = Draft<ActionProposal>;

function sha(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A fresh id per proposal: an old "sim" can never confirm a newer proposal with the same content. */
export function makeProposal<T extends ProposalDraft>(p: T, now: Date): T & { id: string; expires_at: string } {
  return {
    ...p,
    id: `p-${randomBytes(8).toString('hex')}`,
    expires_at: new Date(now.getTime() + PROPOSAL_TTL_MS).toISOString(),
  };
}

/** One write per session and proposal, whatever the number of retries. */
export function idempotencyKey(sessionId: string, proposal: ActionProposal): string {
  return `agent:${proposal.action}:${sha(`${sessionId}:${proposal.id}`).slice(0, 32)}`;
}

/** The only messages that confirm: a bare yes, nothing else (case, accents and final . or ! ignored). */
const BARE_YES = new Set([
  'sim',
  's',
  'ss',
  'confirmo',
  'confirmado',
  'confirma',
  'confirmar',
  'pode',
  'pode sim',
  'sim pode',
  'sim confirmo',
  'pode confirmar',
  'ok',
  'ok confirmo',
  'yes',
  'y',
  'yep',
  'yes please',
  'confirm',
  'confirmed',
  'i confirm',
  'yes confirm',
]);

function bare(message: string): string {
  return fold(message)
    .replace(/[.!]+/g, ' ')
    .replace(/[\s,]+/g, ' ')
    .trim();
}

/**
 * Whether the message confirms the pending proposal. Deliberately strict: "sim, mas…", "sim?",
 * "pode repetir?" and "confirma pra mim o horário?" are not a yes; the assistant answers them.
 */
export function isBareYes(message: string): boolean {
  if (message.includes('?')) {
    return false;
  }
  return BARE_YES.has(bare(message));
}

/** A plain no (the proposal is dropped without writing anything). */
export function isBareNo(message: string): boolean {
  if (message.includes('?')) {
    return false;
  }
  return /^(nao|n|no|nope|negativo|nao obrigad[oa]|deixa|deixa pra la|esquece|cancela|nao quero|never mind|forget it|dont|don t)$/.test(
    bare(message).replace(/ (obrigad[oa]|thanks)$/, ''),
  );
}

export type ConfirmationRefusal =
  'no_pending_proposal' | 'unknown_proposal' | 'proposal_expired' | 'confirmation_required';

/**
 * Whether the current turn confirms `proposalId`: it must be the proposal shown by the previous
 * answer (so it confirms at most once: the next answer carries none), not expired, and the turn
 * must be an explicit confirmation (the `confirm` field naming it, or a bare yes).
 */
export function checkConfirmation(
  turn: { pending?: ActionProposal; confirmId?: string; message: string; now: Date },
  action: ProposalAction,
  proposalId: string,
): ConfirmationRefusal | undefined {
  const { pending } = turn;
  if (!pending) {
    return 'no_pending_proposal';
  }
  if (pending.id !== proposalId || pending.action !== action) {
    return 'unknown_proposal';
  }
  if (new Date(pending.expires_at).getTime() <= turn.now.getTime()) {
    return 'proposal_expired';
  }
  const confirmed = turn.confirmId !== undefined ? turn.confirmId === pending.id : isBareYes(turn.message);
  return confirmed ? undefined : 'confirmation_required';
}

import {
  type ActionProposal,
  checkConfirmation,
  makeProposal,
  type ProposalAction,
  type ProposalDraft,
} from './action-proposal.js';
import { renderProposalSummary } from './proposal-summary.js';
import type { ToolDeps } from './tool-context.js';
import type { ProposalOutput, WriteOutput } from './tool-output.schema.js';

const INSTRUCTION =
  'Nothing was written. Show the summary and ask the user to confirm; only after a bare "yes" (or the Confirm button) in the next message call this tool again with proposal_id.';

type DraftWithoutSummary<T> = T extends unknown ? Omit<T, 'summary'> : never;

/** Step 1 of a write: the server creates the proposal from the validated arguments. */
export async function propose(deps: ToolDeps, draft: DraftWithoutSummary<ProposalDraft>): Promise<ProposalOutput> {
  const tz = await deps.timezone();
  const summary = renderProposalSummary(draft, tz, deps.ctx.lang);
  const proposal = makeProposal({ ...draft, summary }, deps.now());
  deps.ctx.newProposal = proposal;
  return {
    status: 'confirmation_required',
    proposal_id: proposal.id,
    action: proposal.action,
    summary,
    expires_at: proposal.expires_at,
    instruction: INSTRUCTION,
  };
}

/**
 * Step 2 of a write: the pending proposal when this turn confirms exactly it, whatever the model
 * claims; otherwise the refusal the model must report (nothing is written).
 */
export function confirmedProposal<A extends ProposalAction>(
  deps: ToolDeps,
  action: A,
  proposalId: string,
): { proposal: Extract<ActionProposal, { action: A }> } | { refused: WriteOutput } {
  const { ctx } = deps;
  const reason = checkConfirmation(
    { pending: ctx.pendingProposal, confirmId: ctx.confirmId, message: ctx.userMessage, now: deps.now() },
    action,
    proposalId,
  );
  if (reason) {
    return { refused: { status: 'refused', reason } };
  }
  return { proposal: ctx.pendingProposal as Extract<ActionProposal, { action: A }> };
}

import {
  type ActionProposal,
  checkConfirmation,
  idempotencyKey,
  makeProposal,
  type ProposalAction,
  type ProposalDraft,
} from './action-proposal.js';
import type { BookResult, CancelResult, RescheduleResult } from './clinic-data.schema.js';
import { renderProposalSummary } from './proposal-summary.js';
import { json, type ToolDeps } from './tool-context.js';
import { type ProposalOutput, type WriteOutput, writeOutputSchema } from './tool-output.schema.js';

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
function confirmedProposal<A extends ProposalAction>(
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

/** What a confirmed write can answer, whichever the action. */
type WriteResult = BookResult | CancelResult | RescheduleResult;

/**
 * Step 2 of a write, in full: refuse unless this turn confirms exactly the pending proposal;
 * otherwise write it under the proposal's idempotency key (a redelivered run writes nothing
 * twice), drop the clinic's cached reads, and answer with the outcome's appointments presented.
 */
export async function writeConfirmed<A extends ProposalAction>(
  deps: ToolDeps,
  action: A,
  proposalId: string,
  write: (proposal: Extract<ActionProposal, { action: A }>, idempotencyKey: string) => Promise<WriteResult>,
): Promise<string> {
  const c = confirmedProposal(deps, action, proposalId);
  if ('refused' in c) {
    return json(c.refused);
  }
  const result = await write(c.proposal, idempotencyKey(deps.ctx.sessionId, c.proposal));
  deps.cache.invalidateClinic(deps.ctx.caller.clinic_id);
  return json(writeOutputSchema.parse(await presentWrite(deps, result)));
}

async function presentWrite(deps: ToolDeps, result: WriteResult): Promise<WriteOutput> {
  switch (result.status) {
    case 'not_found':
      return result;
    case 'conflict':
      return { status: 'conflict', conflicting: await Promise.all(result.conflicting.map(deps.present)) };
    default:
      return { status: result.status, appointment: await deps.present(result.appointment) };
  }
}

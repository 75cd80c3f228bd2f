import { z } from 'zod';

export const CHAT_MESSAGE_MAX_CHARS = 4000;

/** Client-chosen idempotency key: printable, bounded, safe to log and to put in headers. */
export const clientMessageIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:-]+$/, 'use letters, digits and . _ : - only');

export const chatMessageTextSchema = z
  .string()
  .refine((s) => s.trim().length > 0, 'must not be blank')
  .pipe(z.string().max(CHAT_MESSAGE_MAX_CHARS));

/** Server-issued id of a write proposal (a booking, cancellation or rescheduling to confirm). */
export const proposalIdSchema = z.string().regex(/^p-[0-9a-f]{10,32}$/, 'a proposal id (p-…)');

/** Confirms the pending proposal explicitly (the demo card's Confirm button): never inferred from text. */
export const chatConfirmSchema = z.strictObject({ proposal_id: proposalIdSchema });
export type ChatConfirm = z.infer<typeof chatConfirmSchema>;

/** Gateway → agent: one chat turn, published on the work queue (`agent.runs.chat`). */
export const agentChatRequestSchema = z.strictObject({
  session_id: z.uuid(),
  message_id: z.uuid(),
  message: z.string().min(1).max(CHAT_MESSAGE_MAX_CHARS),
  client_message_id: clientMessageIdSchema.optional(),
  locale: z.string().max(16).optional(),
  confirm: chatConfirmSchema.optional(),
});
export type AgentChatRequest = z.infer<typeof agentChatRequestSchema>;

/** Gateway → agents: abort a running or queued turn, broadcast on `agent.cancel`. */
export const agentCancelRequestSchema = z.strictObject({
  message_id: z.uuid(),
});
export type AgentCancelRequest = z.infer<typeof agentCancelRequestSchema>;

export const agentTokenEventSchema = z.strictObject({
  type: z.literal('token'),
  delta: z.string(),
});
export const agentToolEventSchema = z.strictObject({
  type: z.literal('tool'),
  name: z.string().min(1),
  status: z.enum(['started', 'succeeded', 'failed']),
});
export const agentDoneEventSchema = z.strictObject({
  type: z.literal('done'),
  message_id: z.uuid(),
  content: z.string(),
});
/**
 * A write the assistant proposes, rendered by the server from the tool's validated arguments
 * (never the model's wording), so what the user confirms is exactly what will be written.
 */
export const agentProposalEventSchema = z.strictObject({
  type: z.literal('proposal'),
  proposal_id: proposalIdSchema,
  action: z.enum(['book', 'cancel', 'reschedule']),
  /** Who, what, when, with whom, in the user's language. */
  summary: z.string().min(1).max(500),
  /** ISO instant after which confirming is refused. */
  expires_at: z.iso.datetime({ offset: true }),
});
export const agentErrorEventSchema = z.strictObject({
  type: z.literal('error'),
  code: z.string().min(1),
  message: z.string(),
});

/** What a run produces, in order, ending with done or error (before it gets its `seq`). */
export const agentEventSchema = z.discriminatedUnion('type', [
  agentTokenEventSchema,
  agentToolEventSchema,
  agentDoneEventSchema,
  agentProposalEventSchema,
  agentErrorEventSchema,
]);
export type AgentEvent = z.infer<typeof agentEventSchema>;
export type AgentTokenEvent = z.infer<typeof agentTokenEventSchema>;
export type AgentToolEvent = z.infer<typeof agentToolEventSchema>;
export type AgentDoneEvent = z.infer<typeof agentDoneEventSchema>;
export type AgentProposalEvent = z.infer<typeof agentProposalEventSchema>;
export type AgentErrorEvent = z.infer<typeof agentErrorEventSchema>;

const seq = z.number().int().min(0);

/**
 * Gateway → events stream, `seq` 0 of every run: who owns it (reattach and cancel are allowed to
 * this user only, on any gateway replica) and where it belongs. Never relayed to clients.
 */
export const runAcceptedEventSchema = z.strictObject({
  type: z.literal('accepted'),
  seq: z.literal(0),
  user_id: z.guid(),
  session_id: z.uuid(),
  client_message_id: clientMessageIdSchema.optional(),
});
export type RunAcceptedEvent = z.infer<typeof runAcceptedEventSchema>;

/**
 * Agent → events stream after a redelivery whose answer diverged from what the crashed attempt
 * had streamed: clients drop the partial text they hold; the tokens that follow are the answer.
 */
export const agentRestartEventSchema = z.strictObject({ type: z.literal('restart') });

/**
 * One event of a run's replayable log, on `agent.events.<message_id>`. `seq` increases by one
 * per event (1, 2, …), across redeliveries too, so `Last-Event-ID` / `after` resume exactly.
 */
export const runEventSchema = z.discriminatedUnion('type', [
  runAcceptedEventSchema,
  agentTokenEventSchema.extend({ seq }),
  agentToolEventSchema.extend({ seq }),
  agentRestartEventSchema.extend({ seq }),
  agentDoneEventSchema.extend({ seq }),
  agentProposalEventSchema.extend({ seq }),
  agentErrorEventSchema.extend({ seq }),
]);
export type RunEvent = z.infer<typeof runEventSchema>;
/** A run event as clients see it (everything but `accepted`). */
export type RelayedRunEvent = Exclude<RunEvent, RunAcceptedEvent>;

/** Agent → gateway, the answer to a presence request. */
export const agentPresenceSchema = z.strictObject({
  instance: z.string().min(1).max(128),
  free_slots: z.number().int().min(0),
});
export type AgentPresence = z.infer<typeof agentPresenceSchema>;

/** Public REST body of `POST /v1/ai/chat`. */
export const chatRequestBodySchema = z.strictObject({
  message: chatMessageTextSchema,
  session_id: z.uuid().optional(),
  client_message_id: clientMessageIdSchema.optional(),
  /** Confirms the proposal the previous answer showed (only the pending one of this session). */
  confirm: chatConfirmSchema.optional(),
});
export type ChatRequestBody = z.infer<typeof chatRequestBodySchema>;

/** A write proposal as clients see it (SSE `proposal`, Socket.IO `chat:proposal`, JSON `proposal`). */
export const chatProposalSchema = agentProposalEventSchema.omit({ type: true });
export type ChatProposal = z.infer<typeof chatProposalSchema>;

export function toChatProposal(event: AgentProposalEvent): ChatProposal {
  return {
    proposal_id: event.proposal_id,
    action: event.action,
    summary: event.summary,
    expires_at: event.expires_at,
  };
}

export const chatResponseSchema = z.strictObject({
  session_id: z.uuid(),
  message_id: z.uuid(),
  content: z.string(),
  /** The write this answer asks to confirm, when there is one. */
  proposal: chatProposalSchema.optional(),
});
export type ChatResponse = z.infer<typeof chatResponseSchema>;

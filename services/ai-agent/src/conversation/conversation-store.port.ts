import type { AgentCallerClaims } from '@neonpro/contracts';
import type { AgentRunUsage } from '@neonpro/database';
import type { VerifiedRunUser } from '../caller/caller-directory.port.js';
import type { ActionProposal } from '../tools/action-proposal.js';

export const CONVERSATION_STORE = Symbol('CONVERSATION_STORE');

export interface StoredTurn {
  role: 'user' | 'assistant';
  content: string;
  /** On assistant turns: the booking/cancellation waiting for the user's confirmation. */
  proposal?: ActionProposal;
  /**
   * On assistant turns: the patient names the turn's tools returned, so later turns can
   * pseudonymise them (in the history and in new messages) before text leaves for a provider.
   */
  patient_names?: string[];
}

export type BeginTurnResult =
  /** `history`: the earlier turns, when `historyBudget` was given and the store read them at once. */
  | { status: 'new'; history?: StoredTurn[] }
  /** The user message was stored by an earlier attempt that never produced an answer. */
  | { status: 'retry'; history?: StoredTurn[] }
  /** The turn was already answered: replay this answer instead of running again. */
  | { status: 'answered'; answer: string };

/** Raised when the session exists but belongs to someone else (or another clinic). */
export class SessionNotFoundError extends Error {
  constructor() {
    super('chat session not found');
    this.name = 'SessionNotFoundError';
  }
}

/**
 * The conversation memory (`chat_sessions` / `chat_messages` in Postgres), always AS the caller:
 * a session belongs to one user of one clinic, and is never shared. Turns are keyed by
 * `turnKey` (the client_message_id, or the message id when the client sent none) so a retried
 * request stores each message exactly once.
 */
/** The final assistant message of a turn, with what the next turn needs to know. */
export interface CompletedTurn {
  sessionId: string;
  turnKey: string;
  content: string;
  proposal?: ActionProposal;
  patientNames?: readonly string[];
  /** What the run consumed, stored with the answer. */
  usage?: AgentRunUsage;
}

export interface ConversationStore {
  /**
   * Stores the user message of a turn once (creating the session on first use) and tells whether
   * the turn is new, a retry of an unanswered turn, or already answered. With `historyBudget`,
   * a store may also return the history (as `loadHistory` would) with it: the Postgres store reads
   * its first page in the same statement and any further page in a second transaction.
   * @throws SessionNotFoundError when the session belongs to another user or clinic.
   */
  beginTurn(
    caller: AgentCallerClaims,
    turn: { sessionId: string; turnKey: string; content: string; historyBudget?: number },
  ): Promise<BeginTurnResult>;
  /**
   * `beginTurn` for a verified user whose clinic and role (clinic_members) the store reads in
   * the same transaction, first: one transaction fewer per turn than asking the caller directory.
   * `undefined` when the user belongs to no clinic (nothing else is read or written). Optional:
   * without it the agent asks its CallerDirectory, then calls `beginTurn`.
   */
  beginMemberTurn?(
    user: VerifiedRunUser,
    turn: { sessionId: string; turnKey: string; content: string; historyBudget?: number },
  ): Promise<{ caller: AgentCallerClaims; begun: BeginTurnResult } | undefined>;
  /**
   * Stores the final assistant message of a turn once; a second call for the same turn is a no-op.
   * `usage` (what the run consumed) is recorded in the same transaction as the message.
   */
  completeTurn(caller: AgentCallerClaims, turn: CompletedTurn): Promise<void>;
  /** Records the usage of a run that ended without a turn to store (cancelled, failed). */
  recordUsage(caller: AgentCallerClaims, usage: AgentRunUsage): Promise<void>;
  /**
   * Records that external model providers received pseudonymised text about these patients (the
   * export's recipients, LGPD art. 18). Optional: a store without patient data records nothing.
   */
  recordDisclosure?(
    caller: AgentCallerClaims,
    disclosure: { providers: readonly string[]; patientNames: readonly string[] },
  ): Promise<void>;
  /**
   * Full names of the caller's clinic's patients that `text` names (full name, first + last, two
   * consecutive parts; case- and accent-insensitive), so they are masked before any external model
   * call. Optional: a store without patient data knows none.
   */
  patientNamesIn?(caller: AgentCallerClaims, text: string): Promise<string[]>;
  /**
   * Earlier turns of the session, oldest first, newest ones kept within `tokenBudget`
   * (approximate tokens), excluding the turn `excludeTurnKey`.
   */
  loadHistory(
    caller: AgentCallerClaims,
    params: { sessionId: string; tokenBudget: number; excludeTurnKey: string },
  ): Promise<StoredTurn[]>;
}

/** Characters per token in `estimateTokens`. */
export const CHARS_PER_TOKEN = 4;

/**
 * Rough token estimate (≈4 characters per token) used for the history budget. Never less than
 * `length / CHARS_PER_TOKEN`: a turn's first statement stops reading history at
 * `budget × CHARS_PER_TOKEN` characters, and this is what makes the budget run out inside them.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN) + 4;
}

import type { AgentCallerClaims } from '@neonpro/contracts';
import {
  type AgentRunUsage,
  type ChatMessage,
  type Database,
  type HistoryCursor,
  type HistoryMessage,
  MODEL_DISCLOSURE_ACTION,
  NotFoundError,
} from '@neonpro/database';
import { candidateNameWords, namesMentioned } from '@neonpro/privacy';
import { z } from 'zod';
import {
  type BeginTurnResult,
  type CompletedTurn,
  type ConversationStore,
  CHARS_PER_TOKEN,
  estimateTokens,
  SessionNotFoundError,
  type StoredTurn,
} from '../conversation/conversation-store.port.js';
import { actionProposalSchema } from '../tools/action-proposal.js';
import type { VerifiedRunUser } from '../caller/caller-directory.port.js';
import { asCaller, asCallerStatement, asUserStatement, callerRaw } from './caller-database.js';

/**
 * Messages read by the first page while filling the history budget, newest first; later pages
 * are sized from the tokens per message seen so far (with a margin), within these bounds.
 */
const HISTORY_PAGE = 32;
const HISTORY_PAGE_MIN = 8;
const HISTORY_PAGE_MAX = 256;

const metadataSchema = z.object({
  proposal: actionProposalSchema.optional().catch(undefined),
  patient_names: z.array(z.string()).optional().catch(undefined),
});

/** A history message from either reader; both read user and assistant messages only. */
type HistoryRow = Pick<ChatMessage, 'role' | 'content' | 'metadata'>;

function toTurn(m: HistoryRow): StoredTurn {
  const turn: StoredTurn = { role: m.role as 'user' | 'assistant', content: m.content };
  // Most turns carry nothing besides their text (every user message): nothing to validate.
  if (!m.metadata || Object.keys(m.metadata).length === 0) {
    return turn;
  }
  const meta = metadataSchema.safeParse(m.metadata);
  if (meta.success && meta.data.proposal) {
    turn.proposal = meta.data.proposal;
  }
  if (meta.success && meta.data.patient_names?.length) {
    turn.patient_names = meta.data.patient_names;
  }
  return turn;
}

async function ownSession<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof NotFoundError) {
      throw new SessionNotFoundError();
    }
    throw err;
  }
}

/**
 * Conversation memory in `chat_sessions` / `chat_messages`, as the caller (RLS: a session is
 * its owner's only). The unique (session_id, role, client_message_id) index stores each side of
 * a turn once, whatever the number of retries.
 */
export class PostgresConversationStore implements ConversationStore {
  constructor(private readonly db: Database) {}

  /** `beginMemberTurn` for a caller whose clinic is known already: the same statement. */
  async beginTurn(
    caller: AgentCallerClaims,
    turn: { sessionId: string; turnKey: string; content: string; historyBudget?: number },
  ): Promise<BeginTurnResult> {
    const started = await this.beginMemberTurn({ sub: caller.sub, raw: callerRaw(caller) }, turn);
    if (!started) {
      throw new Error('the caller belongs to no clinic');
    }
    return started.begun;
  }

  /**
   * As `beginTurn`, with the caller's membership read first, all in one statement answered in one
   * round trip with its transaction's preamble and commit (`app.chat_begin_turn`), the history
   * within the token budget included. Only a budget that more than HISTORY_PAGE_MAX messages fit
   * in is read on in a second transaction.
   */
  async beginMemberTurn(
    user: VerifiedRunUser,
    turn: { sessionId: string; turnKey: string; content: string; historyBudget?: number },
  ): Promise<{ caller: AgentCallerClaims; begun: BeginTurnResult } | undefined> {
    // Committed without waiting for the WAL flush: the turn's answer, a synchronous commit,
    // follows before `done` and flushes this one with it. A Postgres crash in between loses the
    // user message of a turn that then fails (its run is redelivered, or the client retries), never
    // a turn the client was told is answered. The run itself is durable in JetStream.
    const budget = turn.historyBudget;
    // The history comes with it, read up to the budget's characters (at most HISTORY_PAGE_MAX rows):
    // a long session's turn needs no second transaction for it.
    const historyAsked =
      budget === undefined
        ? { historyRows: 0 }
        : { historyRows: HISTORY_PAGE_MAX, historyChars: budget * CHARS_PER_TOKEN };
    const { sessionId, turnKey, content } = turn;
    const began = await asUserStatement(
      this.db,
      user.raw,
      (r) => r.chat.beginTurn(user.sub, { sessionId, turnKey, content, ...historyAsked }),
      { asynchronousCommit: true },
    );
    if (began.outcome === 'not_member') {
      return undefined;
    }
    if (began.outcome === 'session_not_found') {
      throw new SessionNotFoundError();
    }
    const { clinic_id, role } = began.member;
    const caller: AgentCallerClaims = { sub: user.sub, email: null, clinic_id, role, raw: user.raw };
    if (began.outcome === 'answered') {
      return { caller, begun: { status: 'answered', answer: began.answer } };
    }
    const status = began.outcome;
    if (budget === undefined) {
      return { caller, begun: { status } };
    }
    // Without a cursor the session ended or the character bound was reached; in the second case
    // the budget runs out inside the rows (`estimateTokens`), so readHistory stops there either way.
    const first = { rows: began.history, before: began.before };
    const history = await readHistory(
      (size, before) => asCaller(this.db, caller, (r) => r.chat.recentTurns(turn.sessionId, size, before)),
      budget,
      turn.turnKey,
      first,
    );
    return { caller, begun: { status, history } };
  }

  async completeTurn(caller: AgentCallerClaims, turn: CompletedTurn): Promise<void> {
    const metadata: Record<string, unknown> = {};
    if (turn.proposal) {
      metadata.proposal = turn.proposal;
    }
    if (turn.patientNames?.length) {
      metadata.patient_names = [...new Set(turn.patientNames)];
    }
    // The answer and its bill in one statement: no stored answer without its usage, nor the reverse.
    // One statement, answered in one round trip with its preamble and commit.
    await asCallerStatement(this.db, caller, (r) =>
      ownSession(r.chat.appendAnswer(turn.sessionId, turn.content, turn.turnKey, metadata, turn.usage)),
    );
  }

  recordUsage(caller: AgentCallerClaims, usage: AgentRunUsage): Promise<void> {
    return asCaller(this.db, caller, (r) => r.usage.record(usage));
  }

  /** One audit row per provider, naming the patients (by id) whose pseudonymised data it received. */
  async recordDisclosure(
    caller: AgentCallerClaims,
    disclosure: { providers: readonly string[]; patientNames: readonly string[] },
  ): Promise<void> {
    if (disclosure.providers.length === 0 || disclosure.patientNames.length === 0) {
      return;
    }
    await asCaller(this.db, caller, async (r) => {
      const ids = await r.patients.idsByNames([...new Set(disclosure.patientNames)]);
      if (ids.length === 0) {
        return;
      }
      for (const provider of new Set(disclosure.providers)) {
        await r.audit.record(MODEL_DISCLOSURE_ACTION, 'patient', null, { provider, patient_ids: ids });
      }
    });
  }

  patientNamesIn(caller: AgentCallerClaims, text: string): Promise<string[]> {
    const words = candidateNameWords(text);
    if (words.length === 0) {
      return Promise.resolve([]);
    }
    return asCaller(this.db, caller, async (r) =>
      namesMentioned(text, await r.patients.namesSharingWords(words)).map((p) => p.full_name),
    );
  }

  /** The session's history within the budget (see `readHistory`). */
  loadHistory(
    caller: AgentCallerClaims,
    params: { sessionId: string; tokenBudget: number; excludeTurnKey: string },
  ): Promise<StoredTurn[]> {
    return asCaller(this.db, caller, async (r) => {
      await ownSession(r.chat.getSession(params.sessionId));
      return readHistory(
        (size, before) => r.chat.recentTurns(params.sessionId, size, before),
        params.tokenBudget,
        params.excludeTurnKey,
      );
    });
  }
}

/** One page of a backwards walk: `size` messages older than `before` (newest first). */
type PageReader = (size: number, before?: HistoryCursor) => Promise<ChatMessage[]>;

/**
 * Walks the session backwards a page at a time and stops as soon as the budget is spent, so a
 * turn's history load costs what the budget allows, whatever the session's length. The caller
 * has checked the session is theirs. `first`: the first page, when the turn's first statement
 * read it already (the turn's own message left out; `before` set when older ones may follow).
 */
async function readHistory(
  pages: PageReader,
  tokenBudget: number,
  excludeTurnKey: string,
  first?: { rows: HistoryMessage[]; before?: HistoryCursor },
): Promise<StoredTurn[]> {
  const kept: HistoryRow[] = [];
  let budget = tokenBudget;
  let seen = 0;
  /** Keeps what the budget allows; false once it is spent. */
  const take = (m: HistoryRow): boolean => {
    seen++;
    budget -= estimateTokens(m.content);
    if (budget < 0) {
      return false;
    }
    kept.push(m);
    return true;
  };
  let before: HistoryCursor | undefined;
  let size = HISTORY_PAGE;
  if (first) {
    if (!first.rows.every(take) || !first.before) {
      return kept.reverse().map(toTurn);
    }
    before = first.before;
    size = nextPageSize(budget, tokenBudget - budget, seen);
  }
  // The next page asks for what the budget left should hold at the tokens per message seen so
  // far, plus a quarter: a long session fills the budget in two round trips, reading few rows
  // it then drops (doubling pages read up to twice the rows kept).
  for (; ; size = nextPageSize(budget, tokenBudget - budget, seen)) {
    const page = await pages(size, before);
    for (const m of page) {
      if (m.client_message_id !== excludeTurnKey && !take(m)) {
        return kept.reverse().map(toTurn);
      }
    }
    if (page.length < size) {
      return kept.reverse().map(toTurn);
    }
    before = page[page.length - 1];
  }
}

/** Rows for the budget left at `spent / seen` tokens per message, with a 25% margin, bounded. */
export function nextPageSize(left: number, spent: number, seen: number): number {
  const perMessage = seen > 0 ? Math.max(1, spent / seen) : 1;
  const wanted = Math.ceil((left / perMessage) * 1.25) + 2;
  return Math.min(HISTORY_PAGE_MAX, Math.max(HISTORY_PAGE_MIN, wanted));
}

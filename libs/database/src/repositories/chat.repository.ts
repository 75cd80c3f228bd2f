import type { ClinicRole } from '@neonpro/contracts';
import { NotFoundError } from '../errors.js';
import { decodeCursor, type Page, toPage } from '../pagination.js';
import { clampLimit, type Statement, type TxContext } from './context.js';
import { type AgentRunUsage, USAGE_INSERT_COLUMNS, usageValues } from './usage.repository.js';

export interface ChatSession {
  id: string;
  clinic_id: string;
  user_id: string;
  title: string | null;
  created_at: string;
  updated_at: string;
}

export type ChatRole = 'user' | 'assistant' | 'tool';

export interface ChatMessage {
  id: string;
  session_id: string;
  role: ChatRole;
  content: string;
  client_message_id: string | null;
  /** What a turn carries besides its text (e.g. the assistant's pending proposal). */
  metadata: Record<string, unknown>;
  created_at: string;
}

const SESSION_COLS = 'id, clinic_id, user_id, title, created_at, updated_at';
const MESSAGE_COLS = 'id, session_id, role, content, client_message_id, metadata, created_at';

const SESSION_BY_ID: Statement = {
  name: 'chat_session_by_id',
  text: `select ${SESSION_COLS} from public.chat_sessions where id = $1`,
};
const TURN_MESSAGE: Statement = {
  name: 'chat_turn_message',
  text: `select ${MESSAGE_COLS} from public.chat_messages where session_id = $1 and role = $2 and client_message_id = $3`,
};
/**
 * One round trip: the session's clinic (through RLS: only the owner's session yields a row), the
 * message stored once per turn, and the session touched when it was.
 */
const MESSAGE_INSERT: Statement = {
  name: 'chat_message_insert',
  text: `with s as (select id, clinic_id from public.chat_sessions where id = $1),
    ins as (insert into public.chat_messages (clinic_id, session_id, role, content, client_message_id, metadata)
      select s.clinic_id, s.id, $2, $3, $4, $5 from s
      on conflict (session_id, role, client_message_id) do nothing
      returning ${MESSAGE_COLS}),
    touched as (update public.chat_sessions set updated_at = now() where id = $1 and exists (select 1 from ins))
    select ${MESSAGE_COLS} from ins`,
};
/**
 * A turn's answer and its bill in one round trip: the message as in MESSAGE_INSERT, and the
 * run's usage row whenever the session is the caller's (a retried run that reached the model
 * again is billed again, even though its answer is stored once). It does not touch the session:
 * `updated_at` is when the user last wrote (migration 20261202000500).
 */
const ANSWER_INSERT: Statement = {
  name: 'chat_answer_insert',
  text: `with s as (select id, clinic_id from public.chat_sessions where id = $1),
    ins as (insert into public.chat_messages (clinic_id, session_id, role, content, client_message_id, metadata)
      select s.clinic_id, s.id, 'assistant', $2, $3, $4 from s
      on conflict (session_id, role, client_message_id) do nothing
      returning id),
    billed as (insert into public.agent_usage (${USAGE_INSERT_COLUMNS})
      select app.current_clinic_id(), auth.uid(), $5, $6, $7, $8, $9, $10, $11, $12, $13 from s where $6::text is not null
      returning 1)
    select exists (select 1 from s) as session, exists (select 1 from ins) as created`,
};
const TURNS_LATEST: Statement = {
  name: 'chat_turns_latest',
  text: `select ${MESSAGE_COLS} from public.chat_messages where session_id = $1 and role in ('user', 'assistant')
    order by created_at desc, id desc limit $2`,
};
const TURNS_BEFORE: Statement = {
  name: 'chat_turns_before',
  text: `select ${MESSAGE_COLS} from public.chat_messages where session_id = $1 and role in ('user', 'assistant')
      and (created_at, id) < ($2::timestamptz, $3::uuid)
    order by created_at desc, id desc limit $4`,
};

/**
 * A turn's first transaction in one statement (`app.chat_begin_turn`; outcomes in its migration),
 * its history in the narrow form: what the model is given, the turn's own message left out.
 */
const BEGIN_TURN: Statement = {
  name: 'chat_begin_turn',
  text: `select member_clinic_id, member_role, outcome, answer, history, history_before_at, history_before_id
    from app.chat_begin_turn($1, $2, $3, $4, $5, $6, true)`,
};

/** A message of a turn's history as `beginTurn` reads it: what the model is given, no more. */
export interface HistoryMessage {
  role: 'user' | 'assistant';
  content: string;
  metadata: Record<string, unknown>;
}

/** Where the next older page of a session's messages starts: the last row read (`recentTurns`). */
export interface HistoryCursor {
  created_at: string;
  id: string;
}

/** What `ChatRepository.beginTurn` found and did. */
export type BeganTurn =
  /** The user belongs to no clinic: nothing was written. */
  | { outcome: 'not_member' }
  | { outcome: 'session_not_found'; member: { clinic_id: string; role: ClinicRole } }
  | { outcome: 'answered'; member: { clinic_id: string; role: ClinicRole }; answer: string }
  | {
      outcome: 'new' | 'retry';
      member: { clinic_id: string; role: ClinicRole };
      /**
       * The newest user and assistant messages but the turn's own, newest first: at most the rows
       * asked for, and none after the one that brings the characters read to `historyChars`.
       */
      history: HistoryMessage[];
      /** Set when the rows asked for ran out first: older messages may follow, from here. */
      before?: HistoryCursor;
    };

interface BeginTurnRow {
  member_clinic_id: string;
  member_role: ClinicRole;
  outcome: 'session_not_found' | 'answered' | 'new' | 'retry';
  answer: string | null;
  history: HistoryMessage[] | null;
  history_before_at: string | null;
  history_before_id: string | null;
}

/** Chat sessions and messages, visible only to their owner (RLS). */
export class ChatRepository {
  constructor(private readonly ctx: TxContext) {}

  async createSession(title?: string | null, id?: string): Promise<ChatSession> {
    const row = await this.ctx.one<ChatSession>(
      `insert into public.chat_sessions (id, clinic_id, user_id, title)
       values (coalesce($1::uuid, gen_random_uuid()), app.current_clinic_id(), auth.uid(), $2) returning ${SESSION_COLS}`,
      [id ?? null, title ?? null],
    );
    return row!;
  }

  async getSession(id: string): Promise<ChatSession> {
    const row = await this.ctx.preparedOne<ChatSession>(SESSION_BY_ID, [id]);
    if (!row) {
      throw new NotFoundError('chat session');
    }
    return row;
  }

  /**
   * A turn's first steps in one statement, as `appendMessage`, the answer of a retried turn and the
   * first `historyRows` of `recentTurns` would do them (fewer once `historyChars` is reached), after the verified user's
   * membership, their session (created when new; another user's id is never adopted), the user
   * message stored once per turn key, then the replayable answer or the newest messages. Sends its
   * statement before its first await (`Database.withUserStatement`).
   */
  async beginTurn(
    userId: string,
    turn: {
      sessionId: string;
      turnKey: string;
      content: string;
      historyRows: number;
      /** Stop reading history once the messages read hold this many characters (the turn's own not counted). */
      historyChars?: number;
    },
  ): Promise<BeganTurn> {
    const row = await this.ctx.preparedOne<BeginTurnRow>(BEGIN_TURN, [
      userId,
      turn.sessionId,
      turn.turnKey,
      turn.content,
      turn.historyRows,
      turn.historyChars ?? null,
    ]);
    if (!row) {
      return { outcome: 'not_member' };
    }
    const member = { clinic_id: row.member_clinic_id, role: row.member_role };
    switch (row.outcome) {
      case 'session_not_found':
        return { outcome: row.outcome, member };
      case 'answered':
        return { outcome: row.outcome, member, answer: row.answer ?? '' };
      default:
        return {
          outcome: row.outcome,
          member,
          history: row.history ?? [],
          ...(row.history_before_at !== null &&
            row.history_before_id !== null && {
              before: { created_at: row.history_before_at, id: row.history_before_id },
            }),
        };
    }
  }

  listSessions(limit?: number): Promise<ChatSession[]> {
    return this.ctx.rows<ChatSession>(
      `select ${SESSION_COLS} from public.chat_sessions order by updated_at desc, id limit $1`,
      [clampLimit(limit, 20, 100)],
    );
  }

  /** The caller's sessions, most recently active first, keyset-paginated. */
  async sessionsPage(q: { limit?: number; cursor?: string } = {}): Promise<Page<ChatSession>> {
    const limit = clampLimit(q.limit, 20, 100);
    const cursor = decodeCursor(q.cursor);
    const rows = await this.ctx.rows<ChatSession>(
      `select ${SESSION_COLS} from public.chat_sessions
        where ($1::timestamptz is null or (updated_at, id) < ($1::timestamptz, $2::uuid))
        order by updated_at desc, id desc limit $3`,
      [cursor?.k ?? null, cursor?.id ?? null, limit + 1],
    );
    return toPage(rows, limit, (r) => ({ k: r.updated_at, id: r.id }));
  }

  /** Oldest first, keyset-paginated forwards. */
  async messagesPage(sessionId: string, q: { limit?: number; cursor?: string } = {}): Promise<Page<ChatMessage>> {
    await this.getSession(sessionId);
    const limit = clampLimit(q.limit, 50, 200);
    const cursor = decodeCursor(q.cursor);
    const rows = await this.ctx.rows<ChatMessage>(
      `select ${MESSAGE_COLS} from public.chat_messages
        where session_id = $1 and ($2::timestamptz is null or (created_at, id) > ($2::timestamptz, $3::uuid))
        order by created_at, id limit $4`,
      [sessionId, cursor?.k ?? null, cursor?.id ?? null, limit + 1],
    );
    return toPage(rows, limit, (r) => ({ k: r.created_at, id: r.id }));
  }

  /** Oldest first; the last `limit` messages. */
  async messages(sessionId: string, limit?: number): Promise<ChatMessage[]> {
    await this.getSession(sessionId);
    const rows = await this.ctx.rows<ChatMessage>(
      `select ${MESSAGE_COLS} from public.chat_messages where session_id = $1
        order by created_at desc, id desc limit $2`,
      [sessionId, clampLimit(limit, 50, 500)],
    );
    return rows.reverse();
  }

  /**
   * User and assistant messages older than `before` (newest first), one page of a backwards walk:
   * a caller filling a token budget reads pages until the budget is spent, so the rows read are
   * bounded by the budget, not by the session's length. The session check is the caller's
   * (first page: `getSession`), as RLS already hides other users' messages.
   */
  recentTurns(sessionId: string, limit: number, before?: HistoryCursor): Promise<ChatMessage[]> {
    const n = clampLimit(limit, 50, 500);
    return before
      ? this.ctx.prepared<ChatMessage>(TURNS_BEFORE, [sessionId, before.created_at, before.id, n])
      : this.ctx.prepared<ChatMessage>(TURNS_LATEST, [sessionId, n]);
  }

  /**
   * Stores a message once per (session, role, client_message_id): a retried turn is not
   * duplicated. A session that is not the caller's is a NotFoundError.
   */
  async appendMessage(
    sessionId: string,
    role: ChatRole,
    content: string,
    clientMessageId?: string | null,
    metadata: Record<string, unknown> = {},
  ): Promise<{ message: ChatMessage; created: boolean }> {
    const inserted = await this.ctx.preparedOne<ChatMessage>(MESSAGE_INSERT, [
      sessionId,
      role,
      content,
      clientMessageId ?? null,
      JSON.stringify(metadata),
    ]);
    if (inserted) {
      return { message: inserted, created: true };
    }
    // Not inserted: the turn's message exists already, or the session is not visible (not ours).
    const existing = clientMessageId
      ? await this.ctx.preparedOne<ChatMessage>(TURN_MESSAGE, [sessionId, role, clientMessageId])
      : undefined;
    if (!existing) {
      throw new NotFoundError('chat session');
    }
    return { message: existing, created: false };
  }

  /**
   * Stores a turn's answer once per (session, client_message_id) and, with `usage`, the run's
   * usage row, in one statement. A session that is not the caller's is a NotFoundError.
   */
  async appendAnswer(
    sessionId: string,
    content: string,
    clientMessageId: string,
    metadata: Record<string, unknown> = {},
    usage?: AgentRunUsage,
  ): Promise<{ created: boolean }> {
    const row = await this.ctx.preparedOne<{ session: boolean; created: boolean }>(ANSWER_INSERT, [
      sessionId,
      content,
      clientMessageId,
      JSON.stringify(metadata),
      ...(usage ? usageValues(usage) : new Array<null>(9).fill(null)),
    ]);
    if (!row?.session) {
      throw new NotFoundError('chat session');
    }
    return { created: row.created };
  }

  async deleteSession(id: string): Promise<void> {
    const r = await this.ctx.db.query('delete from public.chat_sessions where id = $1', [id]);
    if (!r.rowCount) {
      throw new NotFoundError('chat session');
    }
  }
}

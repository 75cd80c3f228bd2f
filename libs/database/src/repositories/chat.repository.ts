import { NotFoundError } from '../errors.js';
import { clampLimit, type TxContext } from './context.js';

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
  created_at: string;
}

const SESSION_COLS = 'id, clinic_id, user_id, title, created_at, updated_at';
const MESSAGE_COLS = 'id, session_id, role, content, client_message_id, created_at';

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
    const row = await this.ctx.one<ChatSession>(`select ${SESSION_COLS} from public.chat_sessions where id = $1`, [id]);
    if (!row) throw new NotFoundError('chat session');
    return row;
  }

  /**
   * The caller's session with this id, created when new. An id owned by someone else is a
   * NotFoundError (never adopted).
   */
  async getOrCreateSession(id: string, title?: string | null): Promise<ChatSession> {
    const mine = await this.ctx.one<ChatSession>(`select ${SESSION_COLS} from public.chat_sessions where id = $1`, [
      id,
    ]);
    if (mine) return mine;
    const row = await this.ctx.one<ChatSession>(
      `insert into public.chat_sessions (id, clinic_id, user_id, title)
       values ($1, app.current_clinic_id(), auth.uid(), $2) on conflict (id) do nothing returning ${SESSION_COLS}`,
      [id, title ?? null],
    );
    if (!row) throw new NotFoundError('chat session');
    return row;
  }

  listSessions(limit?: number): Promise<ChatSession[]> {
    return this.ctx.rows<ChatSession>(
      `select ${SESSION_COLS} from public.chat_sessions order by updated_at desc, id limit $1`,
      [clampLimit(limit, 20, 100)],
    );
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

  /** Stores a message once per (session, role, client_message_id): a retried turn is not duplicated. */
  async appendMessage(
    sessionId: string,
    role: ChatRole,
    content: string,
    clientMessageId?: string | null,
  ): Promise<{ message: ChatMessage; created: boolean }> {
    const session = await this.getSession(sessionId);
    const inserted = await this.ctx.one<ChatMessage>(
      `insert into public.chat_messages (clinic_id, session_id, role, content, client_message_id)
       values ($1, $2, $3, $4, $5) on conflict (session_id, role, client_message_id) do nothing returning ${MESSAGE_COLS}`,
      [session.clinic_id, sessionId, role, content, clientMessageId ?? null],
    );
    if (inserted) {
      await this.ctx.db.query('update public.chat_sessions set updated_at = now() where id = $1', [sessionId]);
      return { message: inserted, created: true };
    }
    const existing = await this.ctx.one<ChatMessage>(
      `select ${MESSAGE_COLS} from public.chat_messages where session_id = $1 and role = $2 and client_message_id = $3`,
      [sessionId, role, clientMessageId],
    );
    return { message: existing!, created: false };
  }

  async deleteSession(id: string): Promise<void> {
    const r = await this.ctx.db.query('delete from public.chat_sessions where id = $1', [id]);
    if (!r.rowCount) throw new NotFoundError('chat session');
  }
}

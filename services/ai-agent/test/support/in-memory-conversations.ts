// Test-only in-memory ConversationStore: sessions owned by one user of one clinic, each message
// stored once per turn key. Erasable TypeScript only (loaded by the E2E harness via type stripping).
import type { AgentCallerClaims } from '@neonpro/contracts';
import type { AgentRunUsage } from '@neonpro/database';
import {
  type BeginTurnResult,
  type CompletedTurn,
  type ConversationStore,
  estimateTokens,
  SessionNotFoundError,
  type StoredTurn,
} from '../../src/conversation/conversation-store.port.js';

interface Session {
  clinic_id: string;
  user_id: string;
  turns: { key: string; user: StoredTurn; assistant?: StoredTurn }[];
}

export class InMemoryConversations implements ConversationStore {
  readonly sessions = new Map<string, Session>();
  /** Usage rows recorded, in order (with the caller's clinic and user, as RLS would stamp them). */
  readonly usage: (AgentRunUsage & { clinic_id: string; user_id: string })[] = [];

  private owned(caller: AgentCallerClaims, sessionId: string): Session | undefined {
    const s = this.sessions.get(sessionId);
    if (s && (s.clinic_id !== caller.clinic_id || s.user_id !== caller.sub)) {
      throw new SessionNotFoundError();
    }
    return s;
  }

  beginTurn(
    caller: AgentCallerClaims,
    turn: { sessionId: string; turnKey: string; content: string },
  ): Promise<BeginTurnResult> {
    let s = this.owned(caller, turn.sessionId);
    if (!s) {
      s = { clinic_id: caller.clinic_id, user_id: caller.sub, turns: [] };
      this.sessions.set(turn.sessionId, s);
    }
    const existing = s.turns.find((t) => t.key === turn.turnKey);
    if (existing?.assistant) {
      return Promise.resolve({ status: 'answered', answer: existing.assistant.content });
    }
    if (existing) {
      return Promise.resolve({ status: 'retry' });
    }
    s.turns.push({
      key: turn.turnKey,
      user: { role: 'user', content: turn.content },
    });
    return Promise.resolve({ status: 'new' });
  }

  completeTurn(caller: AgentCallerClaims, turn: CompletedTurn): Promise<void> {
    const t = this.owned(caller, turn.sessionId)?.turns.find((x) => x.key === turn.turnKey);
    if (turn.usage) {
      this.usage.push({ ...turn.usage, clinic_id: caller.clinic_id, user_id: caller.sub });
    }
    if (t && !t.assistant) {
      t.assistant = {
        role: 'assistant',
        content: turn.content,
        proposal: turn.proposal,
        patient_names: turn.patientNames?.length ? [...turn.patientNames] : undefined,
      };
    }
    return Promise.resolve();
  }

  recordUsage(caller: AgentCallerClaims, usage: AgentRunUsage): Promise<void> {
    this.usage.push({ ...usage, clinic_id: caller.clinic_id, user_id: caller.sub });
    return Promise.resolve();
  }

  loadHistory(
    caller: AgentCallerClaims,
    params: { sessionId: string; tokenBudget: number; excludeTurnKey: string },
  ): Promise<StoredTurn[]> {
    const s = this.owned(caller, params.sessionId);
    const flat = (s?.turns ?? [])
      .filter((t) => t.key !== params.excludeTurnKey)
      .flatMap((t) => (t.assistant ? [t.user, t.assistant] : [t.user]));
    const out: StoredTurn[] = [];
    let budget = params.tokenBudget;
    for (const turn of flat.toReversed()) {
      budget -= estimateTokens(turn.content);
      if (budget < 0) {
        break;
      }
      out.unshift(turn);
    }
    return Promise.resolve(out);
  }

  /** All stored messages of a session, for assertions. */
  messages(sessionId: string): StoredTurn[] {
    return (this.sessions.get(sessionId)?.turns ?? []).flatMap((t) => (t.assistant ? [t.user, t.assistant] : [t.user]));
  }
}

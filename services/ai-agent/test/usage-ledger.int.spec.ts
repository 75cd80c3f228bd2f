// The usage hook of the agent's persistence: a run's usage commits with its answer, as the caller.
import { randomUUID } from 'node:crypto';
import type { AgentCallerClaims } from '@neonpro/contracts';
import { type AgentRunUsage, Database } from '@neonpro/database';
import { type AuthFixture, createAuthFixture, DEMO_USERS, must } from '@neonpro/testing';
import { PostgresConversationStore } from '../src/persistence/postgres-conversation-store.js';

const usage = (over: Partial<AgentRunUsage> = {}): AgentRunUsage => ({
  session_id: null,
  provider: 'openai',
  model: 'gpt-4o-mini',
  input_tokens: 812,
  output_tokens: 64,
  tokens_reported: true,
  tool_calls: 2,
  duration_ms: 1500,
  outcome: 'ok',
  ...over,
});

describe('agent usage ledger (real Postgres)', () => {
  let fx: AuthFixture;
  let db: Database;
  let owner: Database;
  let store: PostgresConversationStore;
  let caller: AgentCallerClaims;

  beforeAll(async () => {
    fx = await createAuthFixture();
    // The agent's login; the owner only to check what was stored.
    db = new Database({ url: fx.db.serviceUrl, poolMax: 2 });
    owner = new Database({ url: fx.db.url, poolMax: 1 });
    store = new PostgresConversationStore(db);
    const token = await fx.token(DEMO_USERS.auroraLima);
    const raw = JSON.parse(
      Buffer.from(must(token.split('.')[1], 'token.split(".")[1]'), 'base64url').toString('utf8'),
    ) as Record<string, unknown>;
    const m = await owner.pool.query<{ clinic_id: string }>(
      'select clinic_id from public.clinic_members where user_id = $1',
      [raw.sub],
    );
    caller = {
      sub: String(raw.sub),
      email: DEMO_USERS.auroraLima,
      clinic_id: must(m.rows[0], 'a row').clinic_id,
      role: 'professional',
      raw,
    };
  });

  afterAll(async () => {
    await db?.close();
    await owner?.close();
    await fx?.close();
  });

  const rows = async (sessionId: string) => ({
    usage: (
      await owner.pool.query<{ user_id: string; clinic_id: string; input_tokens: number; outcome: string }>(
        'select user_id, clinic_id, input_tokens, outcome from public.agent_usage where session_id = $1',
        [sessionId],
      )
    ).rows,
    answers: (
      await owner.pool.query(`select 1 from public.chat_messages where session_id = $1 and role = 'assistant'`, [
        sessionId,
      ])
    ).rowCount,
  });

  it('stores the answer and its usage together, stamped with the caller', async () => {
    const sessionId = randomUUID();
    await store.beginTurn(caller, { sessionId, turnKey: 'k1', content: 'oi' });
    await store.completeTurn(caller, {
      sessionId,
      turnKey: 'k1',
      content: 'olá!',
      usage: usage({ session_id: sessionId }),
    });
    expect(await rows(sessionId)).toEqual({
      usage: [{ user_id: caller.sub, clinic_id: caller.clinic_id, input_tokens: 812, outcome: 'ok' }],
      answers: 1,
    });
  });

  it('a usage row that cannot be written rolls the answer back with it (one transaction)', async () => {
    const sessionId = randomUUID();
    await store.beginTurn(caller, { sessionId, turnKey: 'k2', content: 'oi' });
    // An empty provider breaks a CHECK constraint of agent_usage, after the answer was inserted.
    await expect(
      store.completeTurn(caller, {
        sessionId,
        turnKey: 'k2',
        content: 'olá!',
        usage: usage({ session_id: sessionId, provider: '' }),
      }),
    ).rejects.toMatchObject({ code: '23514' });
    expect(await rows(sessionId)).toEqual({ usage: [], answers: 0 });
  });

  it('records a run that stored no turn (cancelled) on its own', async () => {
    const sessionId = randomUUID();
    await store.recordUsage(caller, usage({ session_id: sessionId, outcome: 'cancelled', input_tokens: 5 }));
    expect((await rows(sessionId)).usage).toEqual([
      { user_id: caller.sub, clinic_id: caller.clinic_id, input_tokens: 5, outcome: 'cancelled' },
    ]);
  });
});

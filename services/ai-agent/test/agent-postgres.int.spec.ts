// The agent's tools and memory against the REAL Postgres (seeded with two clinics), as the
// callers the gateway forwards: RLS, audit, booking idempotency and stored-once turns.
import { randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { agentBus, type AgentCallerClaims, type RunEvent } from '@neonpro/contracts';
import { Database } from '@neonpro/database';
import {
  type AuthFixture,
  createAuthFixture,
  DEMO_USERS,
  chatRequest,
  deleteAgentStreams,
  NATS_URL,
  OpenAiCompatibleTestServer,
  queueRun,
  runEvents,
  uniquePrefix,
  must,
} from '@neonpro/testing';
import { type AgentApp, startAgent } from '../src/app.js';
import { PostgresClinicData } from '../src/persistence/postgres-clinic-data.js';
import { estimateTokens } from '../src/conversation/conversation-store.port.js';
import { PostgresConversationStore } from '../src/persistence/postgres-conversation-store.js';
import { runWithRequestId } from '../src/persistence/request-context.js';
import { ask, type Harness, makeHarness } from './support/chat-harness.js';

const TZ = 'America/Sao_Paulo';

describe('agent tools and memory on the real Postgres', () => {
  let fx: AuthFixture;
  /** The agent's own login (least privilege), as in production. */
  let db: Database;
  /** The owner: fixtures and assertions behind RLS. */
  let owner: Database;
  let h: Harness;
  const callers: Record<string, AgentCallerClaims> = {};

  async function callerFor(email: string): Promise<AgentCallerClaims> {
    const token = await fx.token(email);
    const raw = JSON.parse(
      Buffer.from(must(token.split('.')[1], 'token.split(".")[1]'), 'base64url').toString('utf8'),
    ) as Record<string, unknown>;
    const res = await owner.pool.query('select clinic_id, role from public.clinic_members where user_id = $1', [
      raw.sub,
    ]);
    const member = res.rows[0] as { clinic_id: string; role: AgentCallerClaims['role'] };
    return { sub: String(raw.sub), email, clinic_id: member.clinic_id, role: member.role, raw };
  }

  async function sql<T>(text: string, values: unknown[] = []): Promise<T[]> {
    return (await owner.pool.query(text, values)).rows as T[];
  }
  async function sqlOne<T>(text: string, values: unknown[] = []): Promise<T> {
    return must((await sql<T>(text, values))[0], `a row of: ${text}`);
  }
  const callerOf = (email: string): AgentCallerClaims => must(callers[email], email);

  beforeAll(async () => {
    fx = await createAuthFixture();
    db = new Database({ url: fx.db.serviceUrl, poolMax: 4 });
    owner = new Database({ url: fx.db.url, poolMax: 2 });
    for (const email of Object.values(DEMO_USERS)) {
      callers[email] = await callerFor(email);
    }
    h = makeHarness(new PostgresClinicData(db), new PostgresConversationStore(db));
  });

  afterAll(async () => {
    await db?.close();
    await owner?.close();
    await fx?.close();
  });

  it('a clinic-A user asking about a clinic-B patient finds nothing (by name or CPF)', async () => {
    const borealOnly = await sqlOne<{ full_name: string; cpf: string }>(
      `select p.full_name, p.cpf from public.patients p join public.clinics c on c.id = p.clinic_id
        where c.slug = 'boreal' and not exists (
          select 1 from public.patients q join public.clinics qc on qc.id = q.clinic_id
           where qc.slug = 'aurora' and q.full_name = p.full_name)
        order by p.full_name limit 1`,
    );
    const aurora = callerOf(DEMO_USERS.auroraAdmin);
    const requestId = `it-${randomUUID()}`;
    const byName = await ask(
      h,
      aurora,
      `dados da paciente ${borealOnly.full_name}`,
      randomUUID(),
      undefined,
      requestId,
    );
    expect(byName.tools).toEqual(['search_patients']);
    expect(byName.content).toContain('Não encontrei');
    const byCpf = await ask(h, aurora, `CPF ${borealOnly.cpf}`, randomUUID(), undefined, requestId);
    expect(byCpf.content).toContain('Não encontrei');
    // What the tool saw (the audit row of each search): nothing.
    const searches = await sql<{ details: { by: string; result_count: number } }>(
      `select details from public.audit_log where request_id = $1 and action = 'patient.search' order by id`,
      [requestId],
    );
    expect(searches.map((s) => [s.details.by, s.details.result_count])).toEqual([
      ['name', 0],
      ['cpf', 0],
    ]);
    // The same question from the patient's own clinic does find them: the search itself works.
    const own = await ask(h, callerOf(DEMO_USERS.borealAdmin), `dados da paciente ${borealOnly.full_name}`);
    expect(own.content).toContain(borealOnly.full_name);
  });

  it("the database hides another clinic's patient and appointments by id (RLS, not the tool)", async () => {
    const other = await sqlOne<{ patient_id: string; appointment_id: string }>(
      `select p.id as patient_id, a.id as appointment_id from public.patients p
         join public.clinics c on c.id = p.clinic_id join public.appointments a on a.patient_id = p.id
        where c.slug = 'boreal' limit 1`,
    );
    const data = new PostgresClinicData(db);
    const aurora = callerOf(DEMO_USERS.auroraAdmin);
    const boreal = callerOf(DEMO_USERS.borealAdmin);
    expect(await data.getPatientSummary(aurora, other.patient_id)).toBeNull();
    expect(await data.getAppointment(aurora, other.appointment_id)).toBeNull();
    // The same ids from their own clinic: the lookups work, so the nulls above are the isolation.
    expect((await data.getPatientSummary(boreal, other.patient_id))?.patient.id).toBe(other.patient_id);
    expect((await data.getAppointment(boreal, other.appointment_id))?.id).toBe(other.appointment_id);
  });

  it('a patient summary has her next five and last five appointments, read and audited in one transaction', async () => {
    const aurora = callerOf(DEMO_USERS.auroraAdmin);
    const clinic = await sqlOne<{ id: string }>(`select id from public.clinics where slug = 'aurora'`);
    const { patient_id } = await sqlOne<{ patient_id: string }>(
      `select p.id as patient_id from public.patients p where p.clinic_id = $1 order by p.created_at, p.id limit 1`,
      [clinic.id],
    );
    // Six in the future and six in the past year for this test's patient, so both lists are cut at five.
    const pro = await sqlOne<{ id: string }>(`select id from public.professionals where clinic_id = $1 limit 1`, [
      clinic.id,
    ]);
    const offsets = [-300, -200, -100, -50, -20, -3, 3, 20, 50, 100, 200, 300];
    for (const [i, days] of offsets.entries()) {
      await sql(
        `insert into public.appointments (clinic_id, patient_id, professional_id, starts_at, ends_at, procedure, status)
         values ($1, $2, $3, now() + make_interval(days => $4, mins => $5), now() + make_interval(days => $4, mins => $5 + 30),
                 'Avaliação', $6)`,
        [clinic.id, patient_id, pro.id, days, i, days < 0 ? 'completed' : 'scheduled'],
      );
    }
    const expected = async (where: string, order: string) =>
      (
        await sql<{ id: string }>(
          `select id from public.appointments where patient_id = $1 and ${where} order by starts_at ${order}, id ${order} limit 5`,
          [patient_id],
        )
      ).map((a) => a.id);
    const upcoming = await expected('starts_at >= now()', 'asc');
    const recent = await expected(`starts_at < now() and starts_at >= now() - interval '365 days'`, 'desc');
    const requestId = randomUUID();
    const summary = must(
      (await runWithRequestId(requestId, () => new PostgresClinicData(db).getPatientSummary(aurora, patient_id))) ??
        undefined,
      'a summary',
    );
    expect(summary.upcoming.map((a) => a.id)).toEqual(upcoming);
    expect(summary.recent.map((a) => a.id)).toEqual(recent);
    const audit = await sql<{ action: string; at: string; details: { patient_id?: string; result_count?: number } }>(
      `select action, at::text, details from public.audit_log where request_id = $1 order by id`,
      [requestId],
    );
    expect(audit.map((a) => [a.action, a.details.patient_id ?? null])).toEqual([
      ['patient.read', null],
      ['appointment.list', patient_id],
      ['appointment.list', patient_id],
    ]);
    // One transaction: now() is its start, the same in every row it wrote.
    expect(new Set(audit.map((a) => a.at)).size).toBe(1);
  });

  it('"quais consultas a Dra. Lima tem amanhã?" returns exactly the seeded appointments, audited', async () => {
    const requestId = `it-${randomUUID()}`;
    const aurora = callerOf(DEMO_USERS.auroraAdmin);
    const expected = await sql<{ line: string }>(
      `select '- ' || to_char(a.starts_at at time zone $1, 'HH24:MI') || '–' || to_char(a.ends_at at time zone $1, 'HH24:MI')
              || ' · ' || p.full_name || ' · ' || a.procedure as line
         from public.appointments a join public.patients p on p.id = a.patient_id
         join public.professionals pr on pr.id = a.professional_id
        where pr.full_name = 'Dra. Lima' and (a.starts_at at time zone $1)::date = (now() at time zone $1)::date + 1
        order by a.starts_at`,
      [TZ],
    );
    expect(expected.length).toBeGreaterThan(0);
    const turn = await ask(h, aurora, 'quais consultas a Dra. Lima tem amanhã?', randomUUID(), undefined, requestId);
    expect(turn.error).toBeUndefined();
    expect(turn.tools).toEqual(['list_appointments']);
    expect(turn.content).toContain(`Dra. Lima tem ${expected.length} consulta`);
    const lines = turn.content
      .split('\n')
      .filter((l) => l.startsWith('- '))
      .map((l) => l.replace(/ \([^)]*\)$/, ''));
    expect(lines).toEqual(expected.map((e) => e.line));

    const audit = await sql<{ action: string; actor_id: string; details: { result_count: number } }>(
      'select action, actor_id, details from public.audit_log where request_id = $1 order by id',
      [requestId],
    );
    expect(audit).toEqual([
      expect.objectContaining({
        action: 'appointment.list',
        actor_id: aurora.sub,
        details: expect.objectContaining({ result_count: expected.length }) as unknown,
      }),
    ]);
  });

  it('"minhas consultas de amanhã" from Dra. Lima is her own schedule; an admin is told they have none', async () => {
    const lima = callerOf(DEMO_USERS.auroraLima);
    const expected = await sql<{ n: number }>(
      `select count(*)::int as n from public.appointments a join public.professionals pr on pr.id = a.professional_id
        where pr.user_id = $2 and a.status <> 'cancelled'
          and (a.starts_at at time zone $1)::date = (now() at time zone $1)::date + 1`,
      [TZ, lima.sub],
    );
    const own = await ask(h, lima, 'minhas consultas de amanhã', randomUUID());
    expect(own.error).toBeUndefined();
    expect(own.tools).toEqual(['list_appointments']);
    expect(own.content).toContain(`Dra. Lima tem ${must(expected[0], 'expected[0]').n} consulta`);
    expect(own.content).not.toContain('Dr. Souza');

    const admin = await ask(h, callerOf(DEMO_USERS.auroraAdmin), 'my appointments tomorrow', randomUUID());
    expect(admin.content).toContain('not linked to one of the clinic');
  });

  it('books only after an explicit confirmation, exactly once despite retries and a concurrent replay', async () => {
    const aurora = callerOf(DEMO_USERS.auroraReception);
    const patient = await sqlOne<{ id: string; full_name: string }>(
      `select p.id, p.full_name from public.patients p join public.clinics c on c.id = p.clinic_id
        where c.slug = 'aurora' and (select count(*) from public.patients q where q.full_name = p.full_name) = 1
        order by p.full_name limit 1`,
    );
    const bookedCount = async () =>
      Number(
        must(
          (
            await sql<{ n: string }>(
              `select count(*) as n from public.appointments a join public.professionals pr on pr.id = a.professional_id
              where a.patient_id = $1 and pr.full_name = 'Dr. Souza' and a.procedure = 'Limpeza de pele'
                and to_char(a.starts_at at time zone $2, 'HH24:MI') = '17:00'`,
              [patient.id, TZ],
            )
          )[0],
          'a count',
        ).n,
      );
    const session = randomUUID();
    const proposal = await ask(
      h,
      aurora,
      `agende limpeza de pele para ${patient.full_name} com o Dr. Souza amanhã às 17h`,
      session,
      'propose-1',
    );
    expect(proposal.content).toContain('Confirma?');
    expect(await bookedCount()).toBe(0);

    // A hesitant reply is no confirmation.
    const unsure = await ask(h, aurora, 'talvez, não sei', session, 'unsure-1');
    expect(unsure.tools).not.toContain('book_appointment');
    expect(await bookedCount()).toBe(0);
    // Re-propose, then confirm twice at once with the same client_message_id (a gateway retry
    // racing the first attempt), then once more afterwards.
    await ask(
      h,
      aurora,
      `agende limpeza de pele para ${patient.full_name} com o Dr. Souza amanhã às 17h`,
      session,
      'p2',
    );
    const requestId = `it-${randomUUID()}`;
    const [a, b] = await Promise.all([
      ask(h, aurora, 'sim', session, 'confirm-1', requestId),
      ask(h, aurora, 'sim', session, 'confirm-1', requestId),
    ]);
    for (const t of [a, b]) {
      expect(t.error).toBeUndefined();
      expect(t.content).toContain(`Agendei Limpeza de pele para ${patient.full_name}`);
    }
    const retried = await ask(h, aurora, 'sim', session, 'confirm-1');
    expect(retried.tools).toEqual([]);
    expect(retried.content).toBe(a.content);
    expect(await bookedCount()).toBe(1);
    // The confirmed proposal is used up: another "sim" books nothing new.
    await ask(h, aurora, 'sim', session, 'confirm-2');
    expect(await bookedCount()).toBe(1);

    const audit = await sql<{ action: string; actor_id: string }>(
      'select action, actor_id from public.audit_log where request_id = $1',
      [requestId],
    );
    expect(audit.map((r) => r.action)).toContain('appointment.create');
    expect(new Set(audit.map((r) => r.actor_id))).toEqual(new Set([aurora.sub]));
    // Every turn of the session is stored once per side.
    const stored = await sql<{ role: string; client_message_id: string; n: string }>(
      `select role, client_message_id, count(*) as n from public.chat_messages where session_id = $1
        group by role, client_message_id order by 2, 1`,
      [session],
    );
    expect(stored.every((r) => Number(r.n) === 1)).toBe(true);
    expect(stored.filter((r) => r.client_message_id === 'confirm-1').map((r) => r.role)).toEqual(['assistant', 'user']);
  });

  describe('a built agent (default wiring: Postgres adapters from DATABASE_URL) over NATS', () => {
    const prefix = uniquePrefix('agent-pg');
    const bus = agentBus(prefix);
    let agent: AgentApp;
    let nc: NatsConnection;

    beforeAll(async () => {
      agent = await startAgent({
        NATS_URL,
        NATS_SUBJECT_PREFIX: prefix,
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'silent',
        DATABASE_URL: fx.db.serviceUrl,
        DB_POOL_MAX: '4',
      });
      nc = await connect({ servers: NATS_URL });
    });
    afterAll(async () => {
      await agent?.close();
      await deleteAgentStreams(nc, bus);
      await nc?.drain();
    });

    async function call(
      caller: AgentCallerClaims,
      data: { session_id: string; message: string; client_message_id?: string },
    ): Promise<RunEvent[]> {
      const r = chatRequest(data.message, { session_id: data.session_id, client_message_id: data.client_message_id });
      await queueRun(nc, bus, r, { userId: caller.sub });
      return runEvents(nc, bus, r.message_id, 20000);
    }

    const metric = async (name: string): Promise<number> => {
      const text = await (await fetch(`http://127.0.0.1:${agent.port}/metrics`)).text();
      return text
        .split('\n')
        .filter((l) => l.startsWith(name) && !l.startsWith('#'))
        .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
    };

    it('keeps Postgres out of its readiness (it reflects the pod: started, not draining, bus connected)', async () => {
      const r = await fetch(`http://127.0.0.1:${agent.port}/health/ready`);
      expect(r.status).toBe(200);
      const body = JSON.stringify(await r.json());
      expect(body).toContain('nats');
      expect(body).not.toContain('postgres');
    });

    it('stores the user and the final assistant message exactly once when the gateway retries', async () => {
      const caller = callerOf(DEMO_USERS.auroraLima);
      const session = randomUUID();
      const turn = { session_id: session, message: 'quais consultas temos amanhã?', client_message_id: 'c-1' };
      const first = await call(caller, turn);
      const [second, third] = await Promise.all([call(caller, turn), call(caller, turn)]);
      const done = (ev: RunEvent[]) => {
        const last = ev.at(-1);
        return last?.type === 'done' ? last.content : `not done: ${JSON.stringify(last)}`;
      };
      expect(done(second)).toBe(done(first));
      expect(done(third)).toBe(done(first));
      const rows = await sql<{ role: string; content: string }>(
        'select role, content from public.chat_messages where session_id = $1 order by created_at, role desc',
        [session],
      );
      expect(rows).toEqual([
        { role: 'user', content: turn.message },
        { role: 'assistant', content: done(first) },
      ]);
    });

    it('moves agent_tool_calls_total, agent_run_duration_seconds and agent_model_tokens_total under load', async () => {
      const names = ['agent_tool_calls_total', 'agent_run_duration_seconds_count', 'agent_model_tokens_total'];
      const before = await Promise.all(names.map(metric));
      const caller = callerOf(DEMO_USERS.auroraAdmin);
      const prompts = [
        'quais consultas temos hoje?',
        'quais consultas a Dra. Lima tem amanhã?',
        'horários livres do Dr. Souza amanhã',
      ];
      await Promise.all(
        Array.from({ length: 9 }, (_, i) =>
          call(caller, { session_id: randomUUID(), message: must(prompts[i % 3], 'a prompt') }),
        ),
      );
      const after = await Promise.all(names.map(metric));
      names.forEach((n, i) => expect([n, must(after[i], n) > must(before[i], n)]).toEqual([n, true]));
      expect(must(after[1], 'after[1]') - must(before[1], 'before[1]')).toBe(9);
    });
  });

  it("a session is its owner's only: another user (same clinic or not) gets not_found", async () => {
    const session = randomUUID();
    await ask(h, callerOf(DEMO_USERS.auroraAdmin), 'oi', session);
    for (const email of [DEMO_USERS.auroraLima, DEMO_USERS.borealAdmin]) {
      const t = await ask(h, callerOf(email), 'oi', session);
      expect(t.error).toBe('not_found');
    }
  });

  it('second turns never send a patient name seen earlier to an external provider', async () => {
    const server = await new OpenAiCompatibleTestServer().start();
    try {
      const openai = makeHarness(new PostgresClinicData(db), new PostgresConversationStore(db), {
        AGENT_MODEL_PROVIDER: 'openai',
        OPENAI_BASE_URL: server.baseUrl,
        OPENAI_MODEL: 'test-model',
      });
      const patient = await sqlOne<{ full_name: string; cpf: string }>(
        `select p.full_name, p.cpf from public.patients p join public.clinics c on c.id = p.clinic_id
          where c.slug = 'aurora' order by p.full_name desc limit 1`,
      );
      const caller = callerOf(DEMO_USERS.auroraAdmin);
      const session = randomUUID();
      server.enqueue(
        { toolCall: { name: 'search_patients', args: { query: '[CPF_1]' } } },
        { textChunks: ['Encontrei [PACIENTE_1].'] },
      );
      const first = await ask(openai, caller, `Quem é o paciente do CPF ${patient.cpf}?`, session);
      expect(first.content).toBe(`Encontrei ${patient.full_name}.`);
      const firstRequests = server.requests.length;

      // Turn 2 on the same session (a fresh run: its own pseudonymizer): the stored answer and
      // the user's retyped name must both be masked.
      server.enqueue({ textChunks: ['Sim, [PACIENTE_1] está cadastrado.'] });
      const second = await ask(openai, caller, `E o ${patient.full_name} tem e-mail?`, session);
      expect(second.content).toBe(`Sim, ${patient.full_name} está cadastrado.`);
      const turn2 = server.requests.slice(firstRequests).join('\n');
      expect(turn2).toContain('[PACIENTE_1]');
      for (const word of patient.full_name.split(' ').filter((w) => w.length > 3)) {
        expect(turn2.normalize('NFD')).not.toContain(word.normalize('NFD'));
      }
      expect(turn2).not.toContain(patient.cpf);
    } finally {
      await server.close();
    }
  });
  it("a turn's first write reads the caller's clinic and role; a user of no clinic stores nothing", async () => {
    const store = new PostgresConversationStore(db);
    const admin = callerOf(DEMO_USERS.auroraAdmin);
    const sessionId = randomUUID();
    const turn = { sessionId, turnKey: 'm-1', content: 'oi', historyBudget: 100 };
    const stranger = randomUUID();
    const raw = { sub: stranger, role: 'authenticated', aud: 'authenticated', exp: Math.floor(Date.now() / 1000) + 60 };
    expect(await store.beginMemberTurn({ sub: stranger, raw }, turn)).toBeUndefined();
    expect(await sql('select 1 from public.chat_sessions where id = $1', [sessionId])).toHaveLength(0);

    const started = must(await store.beginMemberTurn({ sub: admin.sub, raw: admin.raw }, turn), 'a member turn');
    expect(started.caller).toMatchObject({ sub: admin.sub, clinic_id: admin.clinic_id, role: admin.role });
    expect(started.begun).toEqual({ status: 'new', history: [] });
    // The same session for another member of the clinic: not theirs.
    const lima = callerOf(DEMO_USERS.auroraLima);
    await expect(store.beginMemberTurn({ sub: lima.sub, raw: lima.raw }, turn)).rejects.toThrow(
      'chat session not found',
    );
    // The answer and its usage row in one statement; a retried turn replays the stored answer.
    await store.completeTurn(started.caller, {
      sessionId,
      turnKey: 'm-1',
      content: 'olá',
      usage: {
        session_id: sessionId,
        provider: 'local',
        model: 'local',
        input_tokens: 3,
        output_tokens: 2,
        tokens_reported: false,
        tool_calls: 0,
        duration_ms: 5,
        outcome: 'ok',
      },
    });
    expect(await sql('select provider from public.agent_usage where session_id = $1', [sessionId])).toEqual([
      { provider: 'local' },
    ]);
    const again = must(await store.beginMemberTurn({ sub: admin.sub, raw: admin.raw }, turn), 'the retried turn');
    expect(again.begun).toEqual({ status: 'answered', answer: 'olá' });
  });

  it('history keeps the newest turns within the token budget, however long the session', async () => {
    const store = new PostgresConversationStore(db);
    const caller = callerOf(DEMO_USERS.auroraAdmin);
    const sessionId = randomUUID();
    // 130 answered turns (260 messages: more than the first three pages together), then one open turn.
    for (let i = 0; i < 130; i++) {
      const turnKey = `h-${i}`;
      await store.beginTurn(caller, { sessionId, turnKey, content: `pergunta ${i}` });
      await store.completeTurn(caller, { sessionId, turnKey, content: `resposta ${i}` });
    }
    await store.beginTurn(caller, { sessionId, turnKey: 'h-open', content: 'pergunta aberta' });
    const all = await store.loadHistory(caller, { sessionId, tokenBudget: 1_000_000, excludeTurnKey: 'h-open' });
    expect(all).toHaveLength(260);
    expect(all[0]).toMatchObject({ role: 'user', content: 'pergunta 0' });
    expect(all.at(-1)).toMatchObject({ role: 'assistant', content: 'resposta 129' });
    // The newest messages whose estimated tokens fit the budget, counted from the end.
    const budget = 300;
    const kept = await store.loadHistory(caller, { sessionId, tokenBudget: budget, excludeTurnKey: 'h-open' });
    let left = budget;
    let n = 0;
    for (const t of [...all].reverse()) {
      left -= estimateTokens(t.content);
      if (left < 0) {
        break;
      }
      n++;
    }
    expect(kept).toEqual(all.slice(all.length - n));
    expect(n).toBeGreaterThan(32);
    expect(n).toBeLessThan(260);
    // A turn begun through the one-statement path (a retry: its message is stored, unanswered)
    // reads the same history. Within the budget's characters it all comes in that statement: no
    // second transaction (`withUser`), though more than 32 messages are kept. Only a budget that
    // more than 256 messages fit in reads on in a second one.
    const who = { sub: caller.sub, raw: caller.raw };
    const retried = { sessionId, turnKey: 'h-open', content: 'pergunta aberta' };
    const transactions = jest.spyOn(db, 'withUser');
    try {
      const viaTurn = must(await store.beginMemberTurn(who, { ...retried, historyBudget: budget }), 'a member turn');
      expect(viaTurn.begun).toEqual({ status: 'retry', history: kept });
      expect(transactions).not.toHaveBeenCalled();
      const everything = must(
        await store.beginMemberTurn(who, { ...retried, historyBudget: 1_000_000 }),
        'a member turn',
      );
      expect(everything.begun).toEqual({ status: 'retry', history: all });
      expect(transactions).toHaveBeenCalledTimes(1);
    } finally {
      transactions.mockRestore();
    }
    expect(
      await sql("select count(*)::int as n from public.chat_messages where session_id = $1 and role = 'user'", [
        sessionId,
      ]),
    ).toEqual([{ n: 131 }]);
  });
});

import { randomUUID } from 'node:crypto';
import type { AgentCallerClaims } from '@neonpro/contracts';
import { Database } from '@neonpro/database';
import { createAuthFixture, DEMO_USERS, OpenAiCompatibleTestServer, type AuthFixture, must } from '@neonpro/testing';
import { PostgresClinicData } from '../src/persistence/postgres-clinic-data.js';
import { PostgresConversationStore } from '../src/persistence/postgres-conversation-store.js';
import { ask, makeHarness } from './support/chat-harness.js';

interface SeededPatient {
  id: string;
  clinic_id: string;
  full_name: string;
  cpf: string;
  phone: string;
  email: string;
  birth_date: string;
}

const fold = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '');

/** Every way a seeded patient's identity could leak into a request body. */
function secretsOf(p: SeededPatient): string[] {
  const parts = p.full_name.split(' ');
  const firstLast = `${parts[0]} ${parts[parts.length - 1]}`;
  const [y, m, d] = p.birth_date.split('-');
  const digits = p.phone.replace(/\D/g, '');
  const out = [
    p.full_name,
    firstLast,
    p.cpf,
    `${p.cpf.slice(0, 3)}.${p.cpf.slice(3, 6)}.${p.cpf.slice(6, 9)}-${p.cpf.slice(9)}`,
  ];
  out.push(p.phone, digits.slice(4), p.email, p.birth_date, `${d}/${m}/${y}`);
  // JSON bodies may escape accents; folded forms catch "maria araujo" typed without them.
  return [
    ...new Set(
      out.flatMap((s) => [s, fold(s), s.toLowerCase(), fold(s).toLowerCase(), JSON.stringify(s).slice(1, -1)]),
    ),
  ];
}

describe('pseudonymisation before an external provider (real Postgres, recording OpenAI-compatible server)', () => {
  let fx: AuthFixture;
  let db: Database;
  let owner: Database;
  let server: OpenAiCompatibleTestServer;
  let caller: AgentCallerClaims;
  let patients: SeededPatient[];
  let mine: SeededPatient[];

  beforeAll(async () => {
    fx = await createAuthFixture();
    db = new Database({ url: fx.db.serviceUrl, poolMax: 4 });
    owner = new Database({ url: fx.db.url, poolMax: 1 });
    const token = await fx.token(DEMO_USERS.auroraAdmin);
    const raw = JSON.parse(
      Buffer.from(must(token.split('.')[1], 'token.split(".")[1]'), 'base64url').toString('utf8'),
    ) as Record<string, unknown>;
    const m = must(
      (
        await owner.pool.query<{ clinic_id: string }>('select clinic_id from clinic_members where user_id = $1', [
          raw.sub,
        ])
      ).rows[0],
      'a row',
    );
    caller = { sub: String(raw.sub), email: DEMO_USERS.auroraAdmin, clinic_id: m.clinic_id, role: 'admin', raw };
    // Every seeded patient, of both clinics; the conversation picks three of the caller's.
    patients = (
      await owner.pool.query<SeededPatient>(
        `select id, clinic_id, full_name, cpf, phone, email, birth_date::text from patients order by full_name`,
      )
    ).rows;
    mine = patients.filter((p) => p.clinic_id === m.clinic_id);
  });
  beforeEach(async () => {
    server = await new OpenAiCompatibleTestServer().start();
  });
  afterEach(async () => server.close());
  afterAll(async () => {
    await db?.close();
    await owner?.close();
    await fx?.close();
  });

  it('no seeded name (full or first + last), CPF, phone, e-mail or birth date reaches the provider in a multi-turn chat', async () => {
    const h = makeHarness(new PostgresClinicData(db), new PostgresConversationStore(db), {
      AGENT_MODEL_PROVIDER: 'openai',
      OPENAI_BASE_URL: server.baseUrl,
      OPENAI_MODEL: 'test-model',
    });
    // Distinct patients, typed the ways users type: first + last without accents in lower case,
    // the full name, and two consecutive parts.
    const a = must(mine[3], 'a 4th patient');
    const b = must(mine[17], 'an 18th patient');
    const c = must(mine[31], 'a 32nd patient');
    const aParts = a.full_name.split(' ');
    const cParts = c.full_name.split(' ');
    const session = randomUUID();
    server.enqueue(
      { toolCall: { name: 'search_patients', args: { query: '[PACIENTE_1]' } } },
      { textChunks: ['Encontrei [PACIENTE_1].'] },
    );
    const t1 = await ask(h, caller, `qual o telefone da ${fold(`${aParts[0]} ${aParts[2]}`).toLowerCase()}?`, session);
    expect(t1.error).toBeUndefined();
    expect(t1.tools).toEqual(['search_patients']);
    // The placeholder in the answer is restored for the user, to the full name.
    expect(t1.content).toBe(`Encontrei ${a.full_name}.`);

    server.enqueue(
      { toolCall: { name: 'get_patient_summary', args: { patient_id: b.id } } },
      { textChunks: ['Resumo pronto.'] },
    );
    const t2 = await ask(h, caller, `Quando nasceu ${b.full_name}? Mande o resumo dela.`, session);
    expect(t2.error).toBeUndefined();
    expect(t2.tools).toEqual(['get_patient_summary']);

    server.enqueue({ textChunks: ['Ok.'] });
    const t3 = await ask(h, caller, `e a ${cParts[0]} ${cParts[1]}, ainda é paciente? E a ${aParts[0]}?`, session);
    expect(t3.error).toBeUndefined();

    expect(server.requests.length).toBeGreaterThanOrEqual(5);
    const sent = server.requests.join('\n');
    // The tool results really were sent (pseudonymised), so the assertion below can fail.
    expect(sent).toContain('[PACIENTE_');
    expect(sent).toContain('[DATA_NASCIMENTO]');
    for (const p of patients) {
      for (const secret of secretsOf(p)) {
        expect({ patient: p.id, leaked: sent.includes(secret) ? secret : null }).toEqual({
          patient: p.id,
          leaked: null,
        });
      }
    }

    // The recipients of their data are recorded for the export: the provider saw them pseudonymised.
    const disclosed = (
      await owner.pool.query<{ provider: string; ids: string[] }>(
        `select details->>'provider' as provider, array(select jsonb_array_elements_text(details->'patient_ids')) as ids
           from audit_log where action = 'agent.model_disclosure' and actor_id = $1`,
        [caller.sub],
      )
    ).rows;
    expect(disclosed.every((r) => r.provider === 'openai')).toBe(true);
    // Those named and those the tools returned (every one of them sent as a placeholder).
    expect(disclosed.flatMap((r) => r.ids)).toEqual(expect.arrayContaining([a.id, b.id, c.id]));
    const exported = await db.withUser(caller.raw as { sub: string }, (r) => r.patients.export(b.id));
    expect(exported.recipients).toEqual([expect.objectContaining({ kind: 'model_provider', provider: 'openai' })]);
  });
  it('a provider that failed still received the text: it is recorded as a recipient', async () => {
    const h = makeHarness(new PostgresClinicData(db), new PostgresConversationStore(db), {
      AGENT_MODEL_PROVIDER: 'openai',
      AGENT_MODEL_FALLBACKS: 'local',
      OPENAI_BASE_URL: server.baseUrl,
      OPENAI_MODEL: 'test-model',
    });
    const p = must(mine[40], 'a 41st patient');
    server.enqueue({ status: 429 });
    const turn = await ask(h, caller, `qual o telefone da ${p.full_name}?`);
    expect(turn.error).toBeUndefined();
    // Answered by the local fallback after the provider refused (the client may retry once).
    expect(server.requests.length).toBeGreaterThanOrEqual(1);
    for (const body of server.requests) {
      expect(body).not.toContain(p.full_name);
    }
    const rows = (
      await owner.pool.query<{ provider: string }>(
        `select details->>'provider' as provider from audit_log
          where action = 'agent.model_disclosure' and details->'patient_ids' ? $1`,
        [p.id],
      )
    ).rows;
    expect(rows).toEqual([{ provider: 'openai' }]);
  });
});

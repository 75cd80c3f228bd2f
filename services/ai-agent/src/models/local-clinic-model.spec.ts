import { randomUUID } from 'node:crypto';
import { lastValueFrom, toArray } from 'rxjs';
import { type AIMessageChunk, HumanMessage } from '@langchain/core/messages';
import { turnConfigurable } from '../agent/turn-config.js';
import { weekdayName } from '../i18n/messages.js';
import { LocalClinicModel } from './local-clinic-model.js';
import { addDays } from '../tools/clinic-time.js';
import { ask, makeHarness } from '../../test/support/chat-harness.js';
import { buildFixture, claimsFor, todaySp } from '../../test/support/clinic-fixtures.js';
import { InMemoryClinicData } from '../../test/support/in-memory-clinic-data.js';
import { InMemoryConversations } from '../../test/support/in-memory-conversations.js';

const fixture = buildFixture();
const port = new InMemoryClinicData([fixture.aurora, fixture.beta]);
const harness = makeHarness(port, new InMemoryConversations());
const caller = claimsFor(fixture.ids.aurora);
const tomorrow = addDays(todaySp(), 1);
const ddmmTomorrow = `${tomorrow.slice(8, 10)}/${tomorrow.slice(5, 7)}`;
const weekdayTomorrow = weekdayName('pt', tomorrow);

// [prompt, expected tool calls in order, strings the answer must contain, strings it must not]
const TABLE: [string, string[], string[], string[]?][] = [
  [
    'quais consultas a Dra. Lima tem amanhã?',
    ['list_appointments'],
    ['Fernanda Lima tem 2 consultas amanhã', 'João Pedro Ribeiro', 'Ana Beatriz Souza', '09:00', '14:00'],
    ['Maria José'],
  ],
  ['quais consultas a dra lima tem amanha', ['list_appointments'], ['2 consultas', 'João Pedro Ribeiro']],
  ['Quais consutas a Dra. Lma tem amanhâ?', ['list_appointments'], ['2 consultas', 'Ana Beatriz Souza']],
  [
    'What appointments does Dr. Lima have tomorrow?',
    ['list_appointments'],
    ['has 2 appointments tomorrow', 'João Pedro Ribeiro'],
  ],
  [
    'quais consultas temos hoje?',
    ['list_appointments'],
    ['1 consulta hoje', 'Maria José Conceição', 'Limpeza de pele', 'confirmada'],
  ],
  [
    'What appointments do we have today?',
    ['list_appointments'],
    ['1 appointment today', 'Maria José Conceição', 'confirmed'],
  ],
  ['consultas desta semana', ['list_appointments'], ['nesta semana', 'João Pedro Ribeiro']],
  ['show this week appointments', ['list_appointments'], ['this week', 'Ana Beatriz Souza']],
  ['quais consultas canceladas amanhã?', ['list_appointments'], ['1 consulta', 'Preenchimento', 'cancelada']],
  [
    'consultas do Dr. Costa amanhã',
    ['list_appointments'],
    ['Ricardo Costa não tem consultas ativas amanhã', '1 cancelada', 'Preenchimento'],
  ],
  ['who are the patients named Maria?', ['search_patients', 'get_patient_summary'], ['Maria José Conceição']],
  ['pacientes chamadas Maria', ['search_patients', 'get_patient_summary'], ['Maria José Conceição']],
  [
    'quais consultas a Dra. Souza tem amanhã?',
    ['list_appointments'],
    ['Não encontrei o profissional "Souza"', 'Fernanda Lima'],
  ],
  ['consultas da Maria José amanhã', ['search_patients', 'list_appointments'], ['Preenchimento']],
  [
    'Buscar paciente CPF 529.982.247-25',
    ['search_patients', 'get_patient_summary'],
    ['Maria José Conceição', '529.982.247-25', '+55 11 98765-4321'],
  ],
  ['cpf 52998224725', ['search_patients', 'get_patient_summary'], ['Maria José Conceição']],
  [
    'dados da paciente joao pedro',
    ['search_patients', 'get_patient_summary'],
    ['João Pedro Ribeiro', '111.444.777-35', 'Botox'],
  ],
  ['dados da paciente Joao Pedro', ['search_patients', 'get_patient_summary'], ['João Pedro Ribeiro']],
  ['find patient John Doe', ['search_patients'], ['could not find any patient matching "John Doe"']],
  [
    'Find patient João Pedro',
    ['search_patients', 'get_patient_summary'],
    ['Patient: João Pedro Ribeiro', 'Phone: +55 21 99876-5432'],
  ],
  ['paciente Ana', ['search_patients'], ['Encontrei 2 pacientes', 'Ana Beatriz Souza', 'Ana Paula Mendes']],
  ['paciente Roberta Alves', ['search_patients'], ['Não encontrei nenhum paciente'], ['Secreta']],
  ['CPF 987.654.321-00', ['search_patients'], ['Não encontrei nenhum paciente'], ['Roberta']],
  [
    'horários livres da Dra. Lima amanhã',
    ['find_free_slots'],
    ['Horários livres de Dra. Fernanda Lima amanhã', '09:30', '13:30'],
    [' 09:00,', '14:00,'],
  ],
  ['free slots for Dr. Costa tomorrow', ['find_free_slots'], ['Free slots for Dr. Ricardo Costa tomorrow', '10:00']],
  ['tem vaga com a Dra Lima amanha?', ['find_free_slots'], ['Horários livres']],
  ['horários livres amanhã', ['clinic_info'], ['De qual profissional?', 'Fernanda Lima', 'Ricardo Costa']],
  ['quais profissionais atendem na clínica?', ['clinic_info'], ['Clínica Aurora', 'Fernanda Lima (Dermatologia)']],
  ['Which professionals work here?', ['clinic_info'], ['Professionals:', 'Ricardo Costa']],
  ['Olá, tudo bem?', [], ['Olá! Sou o assistente da clínica']],
  ['Hello!', [], ['Hello! I am the clinic assistant']],
  ['agende uma consulta para João Pedro', [], ['preciso de: o profissional, a data, o horário']],
  [
    `marque limpeza de pele para Ana Beatriz com a Dra. Lima amanhã às 16h`,
    ['search_patients', 'book_appointment'],
    [
      `Agendar Limpeza de pele para Ana Beatriz Souza com Dra. Fernanda Lima em ${weekdayTomorrow}, ${ddmmTomorrow}, das 16:00 às 16:30.\nConfirma?`,
    ],
  ],
  [
    'book Botox for João Pedro with Dr. Costa tomorrow at 3pm',
    ['search_patients', 'book_appointment'],
    ['Book Botox for João Pedro Ribeiro with Dr. Ricardo Costa', '15:00–15:30', 'Reply "yes"'],
  ],
  [
    'cancele a consulta do João Pedro amanhã',
    ['search_patients', 'list_appointments', 'cancel_appointment'],
    ['Cancelar a consulta de João Pedro Ribeiro', '09:00', 'Confirma?'],
  ],
  ['sim', [], ['Olá! Sou o assistente']],
];

describe('local clinic model: pt-BR and English prompts', () => {
  it.each(TABLE)('%s', async (prompt, tools, contains, excludes = []) => {
    const turn = await ask(harness, caller, prompt);
    expect(turn.error).toBeUndefined();
    expect(turn.tools).toEqual(tools);
    for (const text of contains) {
      expect(turn.content).toContain(text);
    }
    for (const text of excludes) {
      expect(turn.content).not.toContain(text);
    }
    // What streamed is exactly what is stored as the answer.
    expect(turn.events.flatMap((e) => (e.type === 'token' ? [e.delta] : [])).join('')).toBe(turn.content);
  });

  it('writes nothing without a confirmation, and books exactly once after "sim"', async () => {
    const session = randomUUID();
    const before = fixture.aurora.appointments.length;
    const proposal = await ask(
      harness,
      caller,
      'agende botox para Ana Paula Mendes com a Dra. Lima amanhã às 17h',
      session,
    );
    expect(proposal.content).toContain('Confirma?');
    expect(fixture.aurora.appointments.length).toBe(before);
    const confirmed = await ask(harness, caller, 'sim', session, 'confirm-1');
    expect(confirmed.tools).toEqual(['book_appointment']);
    expect(confirmed.content).toContain('Pronto! Agendei Botox para Ana Paula Mendes');
    expect(fixture.aurora.appointments.length).toBe(before + 1);
    // The gateway retries the same client_message_id: the stored answer is replayed, nothing runs.
    const retried = await ask(harness, caller, 'sim', session, 'confirm-1');
    expect(retried.tools).toEqual([]);
    expect(retried.content).toBe(confirmed.content);
    expect(fixture.aurora.appointments.length).toBe(before + 1);
  });

  it('a refusal books nothing; an English confirmation cancels', async () => {
    const session = randomUUID();
    await ask(harness, caller, 'book Peeling for Ana Paula Mendes with Dr. Costa tomorrow at 11am', session);
    const no = await ask(harness, caller, 'não', session);
    expect(no.tools).toEqual([]);
    expect(no.content).toContain('não agendei nada');

    const s2 = randomUUID();
    const p = await ask(harness, caller, 'cancel the appointment of Ana Beatriz tomorrow', s2);
    expect(p.tools).toEqual(['search_patients', 'list_appointments', 'cancel_appointment']);
    const yes = await ask(harness, caller, 'yes, confirm', s2);
    expect(yes.content).toContain('Done! I cancelled Ana Beatriz Souza');
    expect(fixture.aurora.appointments.find((a) => a.id === fixture.ids.apptTomorrowAna)?.status).toBe('cancelled');
  });

  it('emits the server-rendered proposal, confirms it once by its id, and refuses it a second time', async () => {
    const session = randomUUID();
    const send = (message: string, confirm?: string) =>
      lastValueFrom(
        harness.service
          .stream(
            {
              session_id: session,
              message_id: randomUUID(),
              message,
              ...(confirm ? { confirm: { proposal_id: confirm } } : {}),
            },
            caller,
          )
          .pipe(toArray()),
      );
    const before = fixture.aurora.appointments.length;
    const first = await send('agende preenchimento para Ana Paula Mendes com Dr. Costa amanhã às 18h');
    const proposal = first.find((e) => e.type === 'proposal');
    expect(proposal).toMatchObject({ action: 'book', summary: expect.stringContaining('Ana Paula Mendes') as unknown });
    if (proposal?.type !== 'proposal') {
      throw new Error('no proposal');
    }
    expect(proposal.summary).toContain('Dr. Ricardo Costa');
    expect(proposal.summary).toContain('18:00');
    const done = await send('Confirmar', proposal.proposal_id);
    expect(done.at(-1)).toMatchObject({ type: 'done', content: expect.stringContaining('Pronto!') as unknown });
    expect(fixture.aurora.appointments.length).toBe(before + 1);
    // The same button pressed again: the proposal is no longer pending, nothing is written.
    const again = await send('Confirmar', proposal.proposal_id);
    expect(again.at(-1)).toMatchObject({ type: 'done' });
    expect(fixture.aurora.appointments.length).toBe(before + 1);
  });

  it('streams the same chunks through LangChain and through streamTurn (the agent direct path)', async () => {
    const model = new LocalClinicModel();
    const turn = { today: tomorrow, timezone: 'America/Sao_Paulo' };
    const ask1 = [new HumanMessage('quais consultas a Dra. Lima tem amanhã?')];
    const viaLangChain: AIMessageChunk[] = [];
    for await (const c of await model.stream(ask1, { configurable: turnConfigurable(turn) })) {
      viaLangChain.push(c);
    }
    const direct: AIMessageChunk[] = [];
    for await (const c of model.streamTurn(ask1, turn, new AbortController().signal)) {
      direct.push(c);
    }
    expect(direct.map((c) => c.tool_call_chunks)).toEqual(viaLangChain.map((c) => c.tool_call_chunks));
    const hi = [new HumanMessage('oi')];
    const text = async (chunks: AsyncIterable<AIMessageChunk>): Promise<string[]> => {
      const out: string[] = [];
      for await (const c of chunks) {
        out.push(typeof c.content === 'string' ? c.content : '');
      }
      return out;
    };
    const tokens = await text(model.streamTurn(hi, turn, new AbortController().signal));
    // Unpaced, the answer is one chunk.
    expect(tokens).toHaveLength(1);
    expect(tokens[0]).toMatch(/^Olá! Sou o assistente/);
    expect(tokens).toEqual(await text(await model.stream(hi, { configurable: turnConfigurable(turn) })));
  });
});

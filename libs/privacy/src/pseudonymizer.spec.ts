import { PlaceholderStreamRestorer } from './stream-restorer.js';
import { candidateNameWords, maskIdentityDates, namesMentioned, nameVariants, Pseudonymizer } from './pseudonymizer.js';

describe('Pseudonymizer', () => {
  it.each([
    ['CPF com pontuação', 'O CPF dela é 529.982.247-25.', '[CPF_1]', '529.982.247-25'],
    ['CPF sem pontuação', 'cpf 52998224725 por favor', '[CPF_1]', '52998224725'],
    ['celular +55', 'Ligue para +55 (11) 98765-4321 amanhã', '[TELEFONE_1]', '98765-4321'],
    ['celular sem DDI', 'telefone (21) 99876-5432', '[TELEFONE_1]', '99876-5432'],
    ['fixo', 'fixo 11 3456-7890', '[TELEFONE_1]', '3456-7890'],
    ['e-mail', 'email: Ana.Souza+clinica@exemplo.com.br', '[EMAIL_1]', 'exemplo.com'],
    ['CEP', 'mora no CEP 01310-100, São Paulo', '[CEP_1]', '01310-100'],
    ['CEP sem hífen', 'CEP 01310100', '[CEP_1]', '01310100'],
    ['CNS agrupado', 'Cartão SUS 898 0012 3456 7890', '[CNS_1]', '898 0012 3456 7890'],
    ['CNS corrido', 'CNS 700000000000005', '[CNS_1]', '700000000000005'],
    ['RG paulista', 'RG 12.345.678-9 emitido em SP', '[RG_1]', '12.345.678-9'],
    ['RG após a sigla', 'RG: 1234567 SSP/MG', '[RG_1]', '1234567'],
  ])('replaces %s and restores it', (_label, text, placeholder, secret) => {
    const p = new Pseudonymizer();
    const masked = p.pseudonymize(text);
    expect(masked).toContain(placeholder);
    expect(masked).not.toContain(secret);
    expect(p.restore(masked)).toBe(text);
  });

  it('keeps placeholders stable within a conversation, across formats', () => {
    const p = new Pseudonymizer();
    const a = p.pseudonymize('CPF 529.982.247-25 e CPF 111.444.777-35');
    const b = p.pseudonymize('de novo: 52998224725');
    expect(a).toBe('CPF [CPF_1] e CPF [CPF_2]');
    expect(b).toBe('de novo: [CPF_1]');
  });

  it('replaces registered patient names, ignoring accents and case', () => {
    const p = new Pseudonymizer();
    expect(p.registerName('Maria José Conceição')).toBe('[PACIENTE_1]');
    p.registerName('João Pedro Ribeiro');
    const masked = p.pseudonymize(
      'Consultas de maria jose conceicao e de JOÃO PEDRO RIBEIRO; Maria José Conceição confirmou.',
    );
    expect(masked).toBe('Consultas de [PACIENTE_1] e de [PACIENTE_2]; [PACIENTE_1] confirmou.');
    expect(p.restore('[PACIENTE_2] às 14h')).toBe('João Pedro Ribeiro às 14h');
  });

  it('does not touch dates, times, or plain numbers', () => {
    const p = new Pseudonymizer();
    const text = 'Amanhã, 12/03/2026, às 14:30, sala 3, 2 consultas, valor R$ 350,00.';
    expect(p.pseudonymize(text)).toBe(text);
  });

  it('leaves record ids whole, even where their digits read as a phone, and still finds the phone beside them', () => {
    const p = new Pseudonymizer();
    // The middle of this id ("88-4701-8648") matches the phone pattern on its own.
    const id = '0d6f3a88-4701-8648-9c1e-551198765432';
    const text = `{"patient_id":"${id}","phone":"+55 11 98765-4321","ids":["${id.toUpperCase()}"]}`;
    const masked = p.pseudonymize(text);
    expect(masked).toBe(`{"patient_id":"${id}","phone":"[TELEFONE_1]","ids":["${id.toUpperCase()}"]}`);
    expect(p.restore(masked)).toBe(text);
  });

  it('restores placeholders inside tool-call arguments', () => {
    const p = new Pseudonymizer();
    p.pseudonymize('CPF 529.982.247-25');
    expect(p.restoreDeep({ query: '[CPF_1]', nested: ['[CPF_1]', 3] })).toEqual({
      query: '529.982.247-25',
      nested: ['529.982.247-25', 3],
    });
  });
});

describe('PlaceholderStreamRestorer', () => {
  it('restores placeholders split across chunks and holds nothing back at the end', () => {
    const p = new Pseudonymizer();
    p.registerName('Ana Beatriz Lima');
    p.pseudonymize('tel +55 11 91234-5678');
    const restorer = new PlaceholderStreamRestorer(p);
    const chunks = ['A paciente [PACI', 'ENTE_', '1] tem telefone [', 'TELEFONE_1', ']. [nota] fim ['];
    const shown = chunks.map((c) => restorer.push(c));
    shown.push(restorer.flush());
    expect(shown.join('')).toBe('A paciente Ana Beatriz Lima tem telefone +55 11 91234-5678. [nota] fim [');
    expect(shown.some((s) => s.includes('[PACI'))).toBe(false);
  });
});

describe('names the user types', () => {
  const clinic = [
    { id: '1', full_name: 'Maria Araújo Pereira' },
    { id: '2', full_name: 'João da Silva Santos' },
    { id: '3', full_name: 'Mariana Lopes' },
  ];

  it('variants: full name, first + last, two consecutive distinctive parts (particles skipped)', () => {
    expect(nameVariants('Maria Araújo Pereira').sort()).toEqual(
      ['araujo pereira', 'maria araujo', 'maria araujo pereira', 'maria pereira'].sort(),
    );
    expect(nameVariants('João da Silva Santos')).toEqual(
      expect.arrayContaining(['joao da silva santos', 'joao santos', 'joao silva', 'silva santos']),
    );
  });

  it('finds the clinic patients a message names, case- and accent-insensitively, never on a first name alone', () => {
    expect(namesMentioned('agenda da MARIA PEREIRA amanhã', clinic).map((p) => p.id)).toEqual(['1']);
    expect(namesMentioned('e o joao silva?', clinic).map((p) => p.id)).toEqual(['2']);
    expect(namesMentioned('a Maria ligou; e a Mariana?', clinic)).toEqual([]);
    expect(candidateNameWords('Qual o telefone da Maria Araújo?')).toEqual(['qual', 'telefone', 'maria', 'araujo']);
  });

  it('punctuation inside a name is optional: D’Ávila, D"Ávila and Davila are one name', () => {
    const angela = [{ id: '9', full_name: "Ângela D'Ávila Brandão" }];
    expect(namesMentioned('a angela davila ligou', angela)).toEqual(angela);
    const p = new Pseudonymizer();
    p.registerName("Ângela D'Ávila Brandão");
    expect(p.pseudonymize('ANGELA DAVILA, Ângela D’Ávila e davila brandao')).toBe(
      '[PACIENTE_1], [PACIENTE_1] e [PACIENTE_1]',
    );
  });

  it('every variant maps to the patient’s one placeholder, restored as the full name', () => {
    const p = new Pseudonymizer();
    p.registerName('Maria Araújo Pereira');
    const masked = p.pseudonymize('maria pereira, ou Maria Araujo Pereira, ou araújo pereira');
    expect(masked).toBe('[PACIENTE_1], ou [PACIENTE_1], ou [PACIENTE_1]');
    expect(p.restore('[PACIENTE_1]')).toBe('Maria Araújo Pereira');
  });

  it('birth dates leave tool results, whatever the nesting', () => {
    expect(
      maskIdentityDates({
        patient: { full_name: 'x', birth_date: '1980-02-03' },
        list: [{ data_nascimento: '03/02/1980' }],
      }),
    ).toEqual({
      patient: { full_name: 'x', birth_date: '[DATA_NASCIMENTO]' },
      list: [{ data_nascimento: '[DATA_NASCIMENTO]' }],
    });
    expect(maskIdentityDates({ starts_at: '2026-12-02T12:00:00Z', birth_date: null })).toEqual({
      starts_at: '2026-12-02T12:00:00Z',
      birth_date: null,
    });
  });
});

import { composeLocalReply, detectLanguage, tokenize } from './local-responder.js';

describe('local responder', () => {
  it.each([
    ['quais consultas a Dra. Lima tem amanhã?', 'pt'],
    ['Olá, tudo bem?', 'pt'],
    ['oi', 'pt'],
    ['What appointments do we have today?', 'en'],
    ['hello, can you list the patients?', 'en'],
  ] as const)('detects the language of %p', (text, lang) => {
    expect(detectLanguage(text)).toBe(lang);
  });

  it('answers in the user language and is deterministic', () => {
    expect(composeLocalReply('Olá, quais consultas temos hoje?')).toMatch(/^Olá!/);
    expect(composeLocalReply('Hello, which appointments today?')).toMatch(/^Hello!/);
    expect(composeLocalReply('oi')).toBe(composeLocalReply('oi'));
    expect(composeLocalReply('Hello')).toContain('1 word,');
    expect(composeLocalReply('Olá')).toContain('1 palavra,');
  });

  it('tokenizes into deltas that rebuild the text', () => {
    const text = 'Olá!  Sou o assistente.\nLinha 2 ';
    const tokens = tokenize(text);
    expect(tokens.length).toBeGreaterThan(3);
    expect(tokens.join('')).toBe(text);
  });
});

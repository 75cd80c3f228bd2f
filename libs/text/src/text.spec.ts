import { editDistance, fold, foldWords } from './text.js';

describe('text folding', () => {
  it('fold drops diacritics and case, and nothing else', () => {
    expect(fold('João Conceição, AMANHÃ às 14h!')).toBe('joao conceicao, amanha as 14h!');
  });

  it('foldWords keeps letters and digits, one space between words', () => {
    expect(foldWords('  Dra. Lima-Souza,  CPF 529.982 ')).toBe('dra lima souza cpf 529 982');
    expect(foldWords('?!')).toBe('');
  });

  it.each([
    ['fernanda', 'fernanda', 0],
    ['fernadna', 'fernanda', 1],
    ['fernada', 'fernanda', 1],
    ['frenanda', 'fernanda', 1],
    ['costa', 'cost', 1],
    ['', 'abc', 3],
    ['abc', '', 3],
    ['kitten', 'sitting', 3],
    ['ca', 'abc', 3],
  ])('editDistance(%s, %s) = %i', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });
});

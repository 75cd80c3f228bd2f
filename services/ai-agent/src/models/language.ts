import { fold } from '@neonpro/text';

export type Language = 'pt' | 'en';

const EN_HINTS =
  /\b(the|what|which|who|when|where|how|please|hello|hi|appointments?|patients?|today|tomorrow|can|you|is|are|my|show|list|find|book|cancel|free|slots?|does|do|have|has|yes|confirm|for|with|this|week|next)\b/g;
const PT_HINTS =
  /\b(o|a|os|as|que|qual|quais|quem|quando|onde|como|por|favor|ola|oi|consultas?|pacientes?|hoje|amanha|voce|e|sao|meu|minha|mostre|liste|tem|temos|da|do|de|para|com|sim|confirmo|semana|marque|agende|cancele|horarios?|livres?|bom|dia|tarde|noite|tudo|bem)\b/g;

/** pt-BR unless the text is clearly English (the clinic's users mostly write Portuguese). */
export function detectLanguage(text: string): Language {
  const folded = fold(text);
  const en = folded.match(EN_HINTS)?.length ?? 0;
  // Portuguese diacritics tip the balance (names like "João" alone do not decide it).
  const pt = (folded.match(PT_HINTS)?.length ?? 0) + (/[ãõç]|[áéíóú]\p{L}/iu.test(text) ? 0.5 : 0);
  return en > pt ? 'en' : 'pt';
}

/** Splits text into streamable deltas (a word with its trailing whitespace) that rebuild it exactly. */
export function tokenize(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}

/**
 * A deterministic, offline responder used until (and alongside) the LangChain agent: it
 * answers in the user's language and streams word by word, so the whole streaming path can
 * be exercised without a model.
 */
export type Language = 'pt' | 'en';

const EN_HINTS =
  /\b(the|what|which|who|when|where|how|please|hello|hi|appointments?|patients?|today|tomorrow|can|you|is|are|my|show|list)\b/gi;
const PT_HINTS =
  /\b(o|a|os|as|que|quais|qual|quem|quando|onde|como|por favor|olá|ola|oi|consultas?|pacientes?|hoje|amanhã|amanha|você|voce|é|são|minha|meu|mostre|liste|tem|de|do|da)\b/gi;

export function detectLanguage(text: string): Language {
  const en = text.match(EN_HINTS)?.length ?? 0;
  const pt = text.match(PT_HINTS)?.length ?? 0;
  if (/[ãõçáéíóúâêô]/i.test(text)) return 'pt';
  return en > pt ? 'en' : 'pt';
}

export function composeLocalReply(message: string): string {
  const words = message.trim().split(/\s+/u).filter(Boolean).length;
  const chars = [...message.trim()].length;
  if (detectLanguage(message) === 'en') {
    return `Hello! I am the NeonPro clinic assistant. I received your message (${words} ${
      words === 1 ? 'word' : 'words'
    }, ${chars} characters) and I am answering from the local responder.`;
  }
  return `Olá! Sou o assistente da clínica NeonPro. Recebi sua mensagem (${words} ${
    words === 1 ? 'palavra' : 'palavras'
  }, ${chars} caracteres) e estou respondendo pelo respondedor local.`;
}

/** Splits text into streamable deltas that concatenate back to exactly the original. */
export function tokenize(text: string): string[] {
  return text.match(/\S+\s*|\s+/gu) ?? [];
}

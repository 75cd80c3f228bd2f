import type { AppointmentStatus } from '@neonpro/contracts';
import { SELF_PROFESSIONAL } from '../tools/clinic-tools.js';
import { addDays, weekday } from '../tools/clinic-time.js';
import { editDistance, fold } from '@neonpro/text';
import { detectLanguage, type Language } from './language.js';

/** What the deterministic local model understood from one user message. */
export interface Understanding {
  lang: Language;
  intent: 'book' | 'cancel' | 'free_slots' | 'appointments' | 'patient' | 'clinic_info' | 'help';
  /** Inclusive local date range. */
  dateFrom?: string;
  dateTo?: string;
  /** How the user named the range ("amanhã", "this week"), for the answer. */
  dateLabel?: string;
  time?: string;
  professional?: string;
  patientQuery?: string;
  cpf?: string;
  status?: AppointmentStatus;
  procedure?: string;
  durationMinutes?: number;
  wantsSummary: boolean;
}

function tokens(text: string): string[] {
  return fold(text)
    .replace(/[^a-z0-9:/\s-]/g, ' ')
    .split(/\s+/)
    .filter(Boolean);
}

/** Whether a token is the keyword or a likely misspelling of it. */
function like(token: string, keyword: string): boolean {
  if (token === keyword) {
    return true;
  }
  if (keyword.length < 6 || Math.abs(token.length - keyword.length) > 2) {
    return false;
  }
  return editDistance(token, keyword) <= (keyword.length >= 8 ? 2 : 1);
}

function hasAny(toks: string[], keywords: readonly string[]): boolean {
  return toks.some((t) => keywords.some((k) => like(t, k)));
}

const KW = {
  book: ['agendar', 'agende', 'agenda-me', 'marcar', 'marque', 'marca', 'reservar', 'reserve', 'book'],
  cancel: ['cancelar', 'cancele', 'cancela', 'desmarcar', 'desmarque', 'cancel'],
  free: [
    'livre',
    'livres',
    'vaga',
    'vagas',
    'disponivel',
    'disponiveis',
    'disponibilidade',
    'free',
    'available',
    'availability',
    'openings',
    'open',
  ],
  appointments: [
    'consulta',
    'consultas',
    'agenda',
    'atendimento',
    'atendimentos',
    'agendamentos',
    'appointment',
    'appointments',
    'schedule',
    'horarios',
    'marcadas',
    'marcados',
  ],
  patient: [
    'paciente',
    'pacientes',
    'patient',
    'patients',
    'cliente',
    'cpf',
    'dados',
    'telefone',
    'contato',
    'email',
    'ficha',
    'resumo',
    'historico',
    'summary',
    'details',
    'contact',
    'phone',
    'history',
    'busque',
    'buscar',
    'procure',
    'procurar',
    'encontre',
    'find',
    'search',
    'lookup',
  ],
  summary: [
    'dados',
    'resumo',
    'historico',
    'ficha',
    'summary',
    'details',
    'contato',
    'contact',
    'telefone',
    'phone',
    'email',
    'proximas',
    'upcoming',
    'history',
  ],
  clinic: [
    'profissionais',
    'profissional',
    'equipe',
    'especialidade',
    'especialidades',
    'clinica',
    'professionals',
    'staff',
    'team',
    'doctors',
    'clinic',
    'quem',
  ],
};

const WEEKDAYS: Record<string, number> = {
  domingo: 0,
  segunda: 1,
  terca: 2,
  quarta: 3,
  quinta: 4,
  sexta: 5,
  sabado: 6,
  sunday: 0,
  monday: 1,
  tuesday: 2,
  wednesday: 3,
  thursday: 4,
  friday: 5,
  saturday: 6,
};

const PROCEDURES = [
  'limpeza de pele',
  'toxina botulinica',
  'botox',
  'preenchimento',
  'peeling',
  'avaliacao',
  'retorno',
  'harmonizacao facial',
  'microagulhamento',
  'bioestimulador',
  'laser',
  'drenagem',
  'consulta',
];
const PROCEDURE_LABEL: Record<string, string> = {
  'limpeza de pele': 'Limpeza de pele',
  'toxina botulinica': 'Toxina botulínica',
  botox: 'Botox',
  preenchimento: 'Preenchimento',
  peeling: 'Peeling',
  avaliacao: 'Avaliação',
  retorno: 'Retorno',
  'harmonizacao facial': 'Harmonização facial',
  microagulhamento: 'Microagulhamento',
  bioestimulador: 'Bioestimulador',
  laser: 'Laser',
  drenagem: 'Drenagem',
  consulta: 'Consulta',
};

// Words that end a name the user typed ("Maria Silva amanhã às 14h").
const NAME_STOP = new Set([
  'com',
  'with',
  'amanha',
  'hoje',
  'as',
  'at',
  'on',
  'no',
  'na',
  'em',
  'para',
  'pra',
  'dia',
  'tem',
  'tomorrow',
  'today',
  'e',
  'and',
  'cpf',
  'que',
  'quais',
  'qual',
  'this',
  'next',
  'esta',
  'essa',
  'nesta',
  'nessa',
  'semana',
  'week',
  'por',
  'favor',
  'please',
  'a',
  'o',
  'the',
  'for',
  'of',
  'depois',
  'proxima',
  'segunda',
  'terca',
  'quarta',
  'quinta',
  'sexta',
  'sabado',
  'domingo',
  'monday',
  'tuesday',
  'wednesday',
  'thursday',
  'friday',
  'saturday',
  'sunday',
  'has',
  'have',
  'marcada',
  'marcadas',
  'agendada',
  'consulta',
  'consultas',
  'appointment',
  'appointments',
  'dela',
  'dele',
  'seus',
  'suas',
  'mostre',
  'show',
  'dados',
  'resumo',
  'summary',
  'details',
  'telefone',
  'phone',
  'email',
  'contato',
  'ficha',
  'historico',
  'se',
  'is',
  'are',
  'dr',
  'dra',
  'doutor',
  'doutora',
  'doctor',
]);
const NAME_PARTICLES = new Set(['de', 'da', 'do', 'dos', 'das']);

function extractCpf(text: string): string | undefined {
  return /(?<!\d)\d{3}\.?\d{3}\.?\d{3}-?\d{2}(?!\d)/.exec(text)?.[0];
}

const PRO_TITLE = /\b(?:dra?|doutora?|doctor|doc)\b\.?\s+([\p{L}]+)(?:\s+([\p{L}]+))?/iu;

function extractProfessional(text: string): string | undefined {
  const m = PRO_TITLE.exec(text);
  if (!m) {
    return undefined;
  }
  // A second word belongs to the name only when capitalised and not a common word ("Lima Souza").
  const second = m[2] && /^\p{Lu}/u.test(m[2]) && !NAME_STOP.has(fold(m[2])) ? ` ${m[2]}` : '';
  return `${m[1]}${second}`;
}

function isNameWord(word: string, allowLower: boolean): boolean {
  const f = fold(word);
  if (NAME_STOP.has(f) || f.length < 2 || !/^[\p{L}'-]+$/u.test(word)) {
    return false;
  }
  return allowLower || /^\p{Lu}/u.test(word);
}

/** The patient name the user typed, after a marker word ("paciente", "para", "da", "for", …). */
function extractPatientName(text: string, professional: string | undefined): string | undefined {
  const clean = professional
    ? text.replace(PRO_TITLE, (m) => ` , ${m.slice(m.indexOf(professional) + professional.length)}`)
    : text;
  const words = clean.split(/[\s,;?!.()]+|(?<=\S)(?=[,?!])/u).filter(Boolean);
  const markers = new Set([
    'paciente',
    'patient',
    'cliente',
    'pacientes',
    'patients',
    'named',
    'called',
    'chamado',
    'chamada',
    'chamados',
    'chamadas',
    'para',
    'pra',
    'for',
    'da',
    'do',
    'de',
    'of',
    'sobre',
    'about',
  ]);
  const strong = new Set([
    'paciente',
    'patient',
    'cliente',
    'named',
    'called',
    'chamado',
    'chamada',
    'chamados',
    'chamadas',
  ]);
  let best: string | undefined;
  for (let i = 0; i < words.length; i++) {
    const f = fold(words[i]);
    if (!markers.has(f)) {
      continue;
    }
    let j = i + 1;
    if (['a', 'o', 'the'].includes(fold(words[j] ?? ''))) {
      j++;
    }
    const name: string[] = [];
    for (; j < words.length; j++) {
      const w = words[j];
      if (isNameWord(w, strong.has(f))) {
        name.push(w);
      } else if (
        name.length > 0 &&
        NAME_PARTICLES.has(fold(w)) &&
        words[j + 1] &&
        isNameWord(words[j + 1], strong.has(f))
      ) {
        name.push(w);
      } else {
        break;
      }
    }
    const candidate = name.join(' ');
    if (
      candidate &&
      (!professional || fold(candidate) !== fold(professional)) &&
      (!best || candidate.length > best.length)
    ) {
      best = candidate;
    }
  }
  return best;
}

function extractTime(folded: string): string | undefined {
  const pm = /\b(\d{1,2})(?::(\d{2}))?\s*(am|pm)\b/.exec(folded);
  if (pm) {
    let h = Number(pm[1]) % 12;
    if (pm[3] === 'pm') {
      h += 12;
    }
    return `${String(h).padStart(2, '0')}:${pm[2] ?? '00'}`;
  }
  const m = /\b(?:as|at|a partir das)?\s*(\d{1,2})(?:h(\d{2})?|:(\d{2})|\s*horas)\b/.exec(folded);
  if (!m) {
    return undefined;
  }
  const h = Number(m[1]);
  const min = m[2] ?? m[3] ?? '00';
  if (h > 23 || Number(min) > 59) {
    return undefined;
  }
  return `${String(h).padStart(2, '0')}:${min}`;
}

function extractDates(
  toks: string[],
  folded: string,
  today: string,
  lang: Language,
): Pick<Understanding, 'dateFrom' | 'dateTo' | 'dateLabel'> {
  const explicit = /\b(\d{1,2})\/(\d{1,2})(?:\/(\d{2,4}))?\b/.exec(folded);
  if (explicit) {
    const year = explicit[3] ? (explicit[3].length === 2 ? `20${explicit[3]}` : explicit[3]) : today.slice(0, 4);
    const d = `${year}-${explicit[2].padStart(2, '0')}-${explicit[1].padStart(2, '0')}`;
    const date = !explicit[3] && d < today ? `${Number(year) + 1}${d.slice(4)}` : d;
    return {
      dateFrom: date,
      dateTo: date,
      dateLabel: `${explicit[1].padStart(2, '0')}/${explicit[2].padStart(2, '0')}`,
    };
  }
  if (/depois de amanha|day after tomorrow/.test(folded)) {
    const d = addDays(today, 2);
    return { dateFrom: d, dateTo: d, dateLabel: lang === 'pt' ? 'depois de amanhã' : 'the day after tomorrow' };
  }
  if (hasAny(toks, ['amanha', 'tomorrow'])) {
    const d = addDays(today, 1);
    return { dateFrom: d, dateTo: d, dateLabel: lang === 'pt' ? 'amanhã' : 'tomorrow' };
  }
  if (hasAny(toks, ['hoje', 'today'])) {
    return { dateFrom: today, dateTo: today, dateLabel: lang === 'pt' ? 'hoje' : 'today' };
  }
  if (hasAny(toks, ['ontem', 'yesterday'])) {
    const d = addDays(today, -1);
    return { dateFrom: d, dateTo: d, dateLabel: lang === 'pt' ? 'ontem' : 'yesterday' };
  }
  const dow = weekday(today);
  if (/semana que vem|proxima semana|next week/.test(folded)) {
    const monday = addDays(today, (8 - dow) % 7 || 7);
    return {
      dateFrom: monday,
      dateTo: addDays(monday, 6),
      dateLabel: lang === 'pt' ? 'na próxima semana' : 'next week',
    };
  }
  if (/\b(esta|essa|nesta|nessa|da|this)\s+(semana|week)\b/.test(folded) || hasAny(toks, ['semana', 'week'])) {
    return {
      dateFrom: today,
      dateTo: addDays(today, (7 - dow) % 7),
      dateLabel: lang === 'pt' ? 'nesta semana' : 'this week',
    };
  }
  for (const t of toks) {
    const key = Object.keys(WEEKDAYS).find((k) => like(t.replace(/-feira$/, ''), k));
    if (key) {
      const d = addDays(today, (WEEKDAYS[key] - dow + 7) % 7);
      return { dateFrom: d, dateTo: d, dateLabel: `${d.slice(8, 10)}/${d.slice(5, 7)}` };
    }
  }
  return {};
}

// Exact stems, not fuzzy: "cancele" (a verb) is one typo away from "cancelada" (a status).
function extractStatus(toks: string[]): AppointmentStatus | undefined {
  const has = (re: RegExp) => toks.some((t) => re.test(t));
  if (has(/^(cancelad[oa]s?|cancell?ed)$/)) {
    return 'cancelled';
  }
  if (has(/^(confirmad[oa]s?|confirmed)$/)) {
    return 'confirmed';
  }
  if (has(/^(realizad[oa]s?|concluid[oa]s?|completed|finished)$/)) {
    return 'completed';
  }
  if (has(/^(faltas?|faltaram|no-show|noshow|missed)$/)) {
    return 'no_show';
  }
  return undefined;
}

/** Reads a clinic request in pt-BR or English; `today` is the clinic's local date. */
export function understand(text: string, today: string): Understanding {
  const lang = detectLanguage(text);
  const folded = fold(text);
  const toks = tokens(text);
  const cpf = extractCpf(text);
  // "minhas consultas", "minha agenda", "my schedule": a professional asking for their own.
  const mine =
    /\b(minhas?|meus?|my)\s+(consultas?|agenda|agendamentos?|pacientes|appointments?|schedule|patients)\b/.test(folded);
  const professional = extractProfessional(text) ?? (mine ? SELF_PROFESSIONAL : undefined);
  const status = extractStatus(toks);
  const dates = extractDates(toks, folded, today, lang);
  const time = extractTime(folded);
  const procedure = PROCEDURES.find((p) => folded.includes(p));
  const duration = /\b(\d{2,3})\s*(?:min|minutos|minutes)\b/.exec(folded);
  const patientQuery = cpf ?? extractPatientName(text, mine ? undefined : professional);
  const base: Omit<Understanding, 'intent'> = {
    lang,
    ...dates,
    time,
    professional,
    patientQuery,
    cpf,
    status,
    procedure: procedure ? PROCEDURE_LABEL[procedure] : undefined,
    durationMinutes: duration ? Number(duration[1]) : undefined,
    wantsSummary: hasAny(toks, KW.summary),
  };
  const cancelVerb = !status && hasAny(toks, KW.cancel);
  let intent: Understanding['intent'];
  if (cancelVerb) {
    intent = 'cancel';
  } else if (hasAny(toks, KW.book) || /\bschedule (a|an)\b/.test(folded)) {
    intent = 'book';
  } else if (hasAny(toks, KW.free)) {
    intent = 'free_slots';
  } else if (hasAny(toks, KW.appointments) || (professional && dates.dateFrom)) {
    intent = 'appointments';
  } else if (cpf || hasAny(toks, KW.patient)) {
    intent = 'patient';
  } else if (hasAny(toks, KW.clinic)) {
    intent = 'clinic_info';
  } else {
    intent = 'help';
  }
  return { ...base, intent };
}

import type { AppointmentStatus } from '@neonpro/contracts';
import { editDistance, fold } from '@neonpro/text';
import { isoDate, SELF_PROFESSIONAL } from '../tools/tool-args.js';
import { addDays, dateNumbers, weekday } from '../tools/clinic-time.js';
import { detectLanguage, type Language } from './language.js';

/** What the deterministic local model understood from one user message. */
export interface Understanding {
  lang: Language;
  intent:
    | 'book'
    | 'cancel'
    | 'reschedule'
    | 'free_slots'
    | 'appointments'
    | 'patient'
    | 'clinic_info'
    | 'injection'
    | 'out_of_scope'
    | 'help';
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
  phone?: string;
  /** The range lies before today ("semana passada"): answers speak in the past. */
  past?: boolean;
  /** A list of patients was asked for ("quem são os pacientes com nome Maria?"). */
  listPatients?: boolean;
  /** What about the clinic was asked (empty: everything). */
  clinicTopics?: ('hours' | 'services' | 'professionals' | 'contact')[];
  /** Rescheduling: the new date and time (the other date fields select the appointment). */
  target?: { date?: string; time?: string; label?: string };
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
  cancel: ['cancelar', 'cancele', 'cancela', 'desmarcar', 'desmarque', 'desmarca', 'cancel'],
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
    'slots',
    'slot',
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
/** A procedure's name as typed, accented or not (any letter where the folded name has a vowel); built once. */
const PROCEDURE_MENTIONS = PROCEDURES.map((p) => new RegExp(p.replace(/[aeiou]/g, '\\p{L}'), 'giu'));
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
  'amanhã',
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
  'enf',
  'nome',
  'name',
  'do',
  'da',
  'de',
  'ontem',
  'yesterday',
  'mes',
  'passada',
  'passado',
  'hora',
  'horario',
  'um',
  'uma',
  'an',
  'new',
  'nova',
  'novo',
  'paciente',
  'pacientes',
  'patient',
  'cliente',
  'ultima',
  'ultimo',
  'proximo',
  'este',
  'deste',
  'desta',
  'neste',
  'month',
  'consuta',
  'consulat',
  'agenda',
  'visit',
  'to',
  'mas',
  'but',
]);
const NAME_PARTICLES = new Set(['de', 'da', 'do', 'dos', 'das']);

function extractCpf(text: string): string | undefined {
  return /(?<!\d)\d{3}[.\s]?\d{3}[.\s]?\d{3}[-\s]?\d{2}(?!\d)/.exec(text)?.[0];
}

const PRO_TITLE = /\b(?:dra?|doutora?|doctor|doc|enf|enfermeira|enfermeiro)\b\.?\s+([\p{L}]+)(?:\s+([\p{L}]+))?/iu;

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
  const f = fold(word).replace(/-feira$/, '');
  if (NAME_STOP.has(f) || f.length < 2 || !/^[\p{L}'-]+$/u.test(word)) {
    return false;
  }
  return allowLower || /^\p{Lu}/u.test(word);
}

// Words after which the user names a patient. After a strong one ("paciente", "agende", "named")
// the next words are a name even in lower case; after a weak one ("da", "para") only if capitalised.
const STRONG_NAME_MARKERS = new Set([
  'nome',
  'name',
  'agende',
  'agendar',
  'marque',
  'marcar',
  'book',
  'remarque',
  'remarcar',
  'reagende',
  'cancele',
  'desmarque',
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
const NAME_MARKERS = new Set([
  ...STRONG_NAME_MARKERS,
  'pacientes',
  'patients',
  'para',
  'pra',
  'for',
  'da',
  'do',
  'de',
  'of',
  'sobre',
  'about',
  'cancel',
  'cancela',
  'desmarca',
  'reschedule',
  'move',
  'remarca',
]);

/** The patient name the user typed, after a marker word ("paciente", "para", "da", "for", …). */
function extractPatientName(text: string, professional: string | undefined): string | undefined {
  const clean = professional
    ? text.replace(PRO_TITLE, (m) => ` , ${m.slice(m.indexOf(professional) + professional.length)}`)
    : text;
  const words = clean.split(/[\s,;?!.()]+|(?<=\S)(?=[,?!])/u).filter(Boolean);
  // Staff who type all lower case ("consultas da maria silva") still name patients.
  const noCapitals = !/\p{Lu}/u.test(text);
  let best: string | undefined;
  for (const [i, word] of words.entries()) {
    const f = fold(word);
    if (!NAME_MARKERS.has(f)) {
      continue;
    }
    let j = i + 1;
    if (['a', 'o', 'the'].includes(fold(words[j] ?? ''))) {
      j++;
    }
    const name: string[] = [];
    const after = words.slice(j);
    for (const [k, w] of after.entries()) {
      const next = after[k + 1];
      if (isNameWord(w, STRONG_NAME_MARKERS.has(f) || noCapitals)) {
        name.push(w);
      } else if (
        name.length > 0 &&
        NAME_PARTICLES.has(fold(w)) &&
        next &&
        isNameWord(next, STRONG_NAME_MARKERS.has(f) || noCapitals)
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

function monthStart(date: string, delta: number): string {
  const [y, m] = dateNumbers(date);
  return new Date(Date.UTC(y, m - 1 + delta, 1)).toISOString().slice(0, 10);
}

/** "dia 5": the day 5 nearest to today (this, last or next month). */
function nearestDay(today: string, day: number): string | undefined {
  const candidates = [-1, 0, 1]
    .map((delta) => {
      const first = monthStart(today, delta);
      const d = `${first.slice(0, 8)}${String(day).padStart(2, '0')}`;
      return new Date(`${d}T12:00:00Z`).toISOString().slice(0, 10) === d ? d : undefined;
    })
    .filter((d): d is string => d !== undefined);
  const dist = (d: string) => Math.abs(new Date(`${d}T12:00:00Z`).getTime() - new Date(`${today}T12:00:00Z`).getTime());
  candidates.sort((a, b) => dist(a) - dist(b));
  return candidates[0];
}

type Dates = Pick<Understanding, 'dateFrom' | 'dateTo' | 'dateLabel' | 'past'>;

function single(d: string, label: string, today: string): Dates {
  return { dateFrom: d, dateTo: d, dateLabel: label, past: d < today };
}

export function extractDates(toks: string[], folded: string, today: string, lang: Language): Dates {
  const pt = lang === 'pt';
  const ddmmOf = (d: string) => `${d.slice(8, 10)}/${d.slice(5, 7)}`;
  const [, day, month, yearText] = /\b(\d{1,2})\/(\d{1,2})(?:\/(\d{2,4}))?\b/.exec(folded) ?? [];
  if (day !== undefined && month !== undefined) {
    const year = yearText ? (yearText.length === 2 ? `20${yearText}` : yearText) : today.slice(0, 4);
    const d = `${year}-${month.padStart(2, '0')}-${day.padStart(2, '0')}`;
    // "31/02" names no day: it is not read as a date (never rolled over into March).
    if (isoDate.safeParse(d).success) {
      return single(d, pt ? `em ${ddmmOf(d)}` : `on ${ddmmOf(d)}`, today);
    }
  }
  const dayN = /\b(?:dia|day|no dia|on the)\s+(\d{1,2})\b(?!\s*(?:h\b|:|horas|am|pm))/.exec(folded);
  if (dayN) {
    const d = nearestDay(today, Number(dayN[1]));
    if (d) {
      return single(d, pt ? `no dia ${ddmmOf(d)}` : `on ${ddmmOf(d)}`, today);
    }
  }
  if (/depois de amanha|day after tomorrow/.test(folded)) {
    return single(addDays(today, 2), pt ? 'depois de amanhã' : 'the day after tomorrow', today);
  }
  if (/anteontem|day before yesterday/.test(folded)) {
    return single(addDays(today, -2), pt ? 'anteontem' : 'the day before yesterday', today);
  }
  if (hasAny(toks, ['amanha', 'tomorrow'])) {
    return single(addDays(today, 1), pt ? 'amanhã' : 'tomorrow', today);
  }
  if (hasAny(toks, ['hoje', 'today'])) {
    return single(today, pt ? 'hoje' : 'today', today);
  }
  if (hasAny(toks, ['ontem', 'yesterday'])) {
    return single(addDays(today, -1), pt ? 'ontem' : 'yesterday', today);
  }
  const dow = weekday(today);
  const monday = addDays(today, -((dow + 6) % 7));
  if (/semana passada|ultima semana|last week|previous week/.test(folded)) {
    return {
      dateFrom: addDays(monday, -7),
      dateTo: addDays(monday, -1),
      dateLabel: pt ? 'na semana passada' : 'last week',
      past: true,
    };
  }
  if (/semana que vem|proxima semana|next week/.test(folded)) {
    return {
      dateFrom: addDays(monday, 7),
      dateTo: addDays(monday, 13),
      dateLabel: pt ? 'na próxima semana' : 'next week',
    };
  }
  if (/mes passado|ultimo mes|last month|previous month/.test(folded)) {
    const from = monthStart(today, -1);
    return {
      dateFrom: from,
      dateTo: addDays(monthStart(today, 0), -1),
      dateLabel: pt ? 'no mês passado' : 'last month',
      past: true,
    };
  }
  if (/mes que vem|proximo mes|next month/.test(folded)) {
    return {
      dateFrom: monthStart(today, 1),
      dateTo: addDays(monthStart(today, 2), -1),
      dateLabel: pt ? 'no próximo mês' : 'next month',
    };
  }
  if (/\b(este|esse|neste|nesse|deste|desse|do) mes\b|this month/.test(folded)) {
    return {
      dateFrom: monthStart(today, 0),
      dateTo: addDays(monthStart(today, 1), -1),
      dateLabel: pt ? 'neste mês' : 'this month',
    };
  }
  if (
    /\b(esta|essa|nesta|nessa|desta|dessa|da|this)\s+(semana|week)\b/.test(folded) ||
    hasAny(toks, ['semana', 'week'])
  ) {
    return { dateFrom: today, dateTo: addDays(monday, 6), dateLabel: pt ? 'nesta semana' : 'this week' };
  }
  for (const [i, t] of toks.entries()) {
    const [, target] = Object.entries(WEEKDAYS).find(([k]) => like(t.replace(/-feira$/, ''), k)) ?? [];
    if (target === undefined) {
      continue;
    }
    const before = /passad[oa]|last|ultim[oa]/.test(`${toks[i - 1] ?? ''} ${toks[i + 1] ?? ''} ${toks[i + 2] ?? ''}`);
    const d = before ? addDays(today, -((dow - target + 7) % 7 || 7)) : addDays(today, (target - dow + 7) % 7);
    return single(d, pt ? `em ${ddmmOf(d)}` : `on ${ddmmOf(d)}`, today);
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

const RESCHEDULE =
  /\b(remarcar|remarque|remarca|remarcacao|reagendar|reagende|reagenda|adiar|adie|antecipar|antecipe|transferir|transfira|mudar|mude|mova|reschedule|move|postpone|change)\b/;
const INJECTION =
  /\b(ignore|ignora|ignorar|desconsidere|esqueca|forget|disregard)\b.*\b(instrucoes|instrucao|instructions?|regras|rules|prompt|sistema|system)\b|\b(todas as|todos os|all)\s+(consultas|agendamentos|pacientes|appointments|patients)\b.*\b(cancel|cancele|cancelar|apague|delete|remova)|\b(cancel|cancele|cancelar|apague|delete)\w*\s+(todas|todos|all|tudo|everything)\b/;
const EXPLICIT_FREE = /\b(livres?|vagas?|disponive\w*|disponibilidade|free|available|availability|slots?)\b/;
const GREETING =
  /^(oi|ola|bom dia|boa tarde|boa noite|hello|hi|hey|ajuda|help|menu|o que voce faz|what can you do|sim|s|nao|yes|no|ok|obrigad[oa]|thanks|thank you)\b/;
const CLINIC_TOPICS: [NonNullable<Understanding['clinicTopics']>[number], RegExp][] = [
  [
    'hours',
    /\b(horario de (funcionamento|atendimento)|funcionamento|abre|abrem|abertura|fecha|fecham|fechamento|aberta|abertos?|opening hours|hours|open|opens|close|closes|closing)\b/,
  ],
  [
    'services',
    /\b(servicos?|procedimentos?|tratamentos?|oferece|oferecem|services?|procedures?|treatments?|offer|offers)\b/,
  ],
  [
    'professionals',
    /\b(profissionais|profissional|equipe|especialidades?|medicos?|doutores|professionals|staff|team|doctors)\b/,
  ],
  ['contact', /\b(endereco|onde fica|localizacao|address|where is|telefone da clinica|clinic phone)\b/],
];

function extractPhone(text: string, cpf: string | undefined): string | undefined {
  const m = /(?:\+?\d{2}\s*)?\(?\d{2}\)?\s*9?\d{4}[-\s]?\d{4}\b/.exec(text);
  if (!m || (cpf && m[0].replace(/\D/g, '') === cpf.replace(/\D/g, ''))) {
    return undefined;
  }
  const digits = m[0].replace(/\D/g, '');
  return digits.length >= 8 ? digits : undefined;
}

/** Splits "… para depois de amanhã às 10h" into the selection and the new time of a rescheduling. */
function rescheduleTarget(
  text: string,
  today: string,
  lang: Language,
): { source: string; target?: Understanding['target'] } {
  const folded = fold(text);
  const re = /\b(para|pra|to|for)\b/g;
  let m: RegExpExecArray | null;
  let cut = -1;
  while ((m = re.exec(folded))) {
    const right = folded.slice(m.index + m[0].length);
    const d = extractDates(tokens(right), right, today, lang);
    if (d.dateFrom || extractTime(right)) {
      cut = m.index;
    }
  }
  if (cut < 0) {
    return { source: text };
  }
  const right = folded.slice(cut);
  const d = extractDates(tokens(right), right, today, lang);
  return {
    source: text.slice(0, cut),
    target: { date: d.dateFrom, time: extractTime(right), label: d.dateLabel },
  };
}

/** Reads a clinic request in pt-BR or English; `today` is the clinic's local date. */
export function understand(text: string, today: string): Understanding {
  const lang = detectLanguage(text);
  const folded = fold(text);
  const toks = tokens(text);
  const reschedule = RESCHEDULE.test(folded) && !/\b(change|mudar|mude)\b.*\b(nome|name|telefone|phone)\b/.test(folded);
  const split = reschedule ? rescheduleTarget(text, today, lang) : { source: text };
  const sourceFolded = fold(split.source);
  const sourceToks = tokens(split.source);
  const cpf = extractCpf(text);
  const phone = cpf ? undefined : extractPhone(text, cpf);
  // "minhas consultas", "minha agenda", "my schedule": a professional asking for their own.
  const mine =
    /\b(minhas?|meus?|my)\s+(consultas?|agenda|agendamentos?|pacientes|appointments?|schedule|patients)\b/.test(folded);
  const professional = extractProfessional(text) ?? (mine ? SELF_PROFESSIONAL : undefined);
  const status = extractStatus(toks);
  const dates = extractDates(sourceToks, sourceFolded, today, lang);
  const time = extractTime(sourceFolded);
  const procedure = PROCEDURES.find((p) => folded.includes(p));
  const duration = /\b(\d{2,3})\s*(?:min|minutos|minutes)\b/.exec(folded);
  // Procedure names are not patient names ("marque limpeza de pele para Ana").
  const nameSource = PROCEDURE_MENTIONS.reduce((t, re) => t.replace(re, ' , '), split.source);
  const patientQuery = cpf ?? phone ?? extractPatientName(nameSource, mine ? undefined : professional);
  const base: Omit<Understanding, 'intent'> = {
    lang,
    ...dates,
    time,
    professional,
    patientQuery,
    cpf,
    phone,
    status,
    procedure: procedure ? PROCEDURE_LABEL[procedure] : undefined,
    durationMinutes: duration ? Number(duration[1]) : undefined,
    wantsSummary: hasAny(toks, KW.summary),
    listPatients: /\b(pacientes|patients|quem sao|who are|com nome|named|chamad[oa]s)\b/.test(folded),
    target: split.target,
  };
  const topics = CLINIC_TOPICS.filter(([, re]) => re.test(folded)).map(([t]) => t);
  const slotsWords = hasAny(toks, KW.free);
  const cancelVerb = !status && hasAny(toks, KW.cancel);
  let intent: Understanding['intent'];
  if (INJECTION.test(folded)) {
    intent = 'injection';
  } else if (reschedule) {
    intent = 'reschedule';
  } else if (cancelVerb) {
    intent = 'cancel';
  } else if (
    hasAny(
      toks.filter((t) => !/^agendas?$/.test(t)),
      KW.book,
    ) ||
    /\bschedule (a|an)\b/.test(folded)
  ) {
    intent = 'book';
  } else if (topics.some((t) => t !== 'professionals') && !EXPLICIT_FREE.test(folded)) {
    intent = 'clinic_info';
  } else if (slotsWords) {
    intent = 'free_slots';
  } else if (
    topics.some((t) => t !== 'professionals') ||
    (topics.includes('professionals') && !dates.dateFrom && !patientQuery && !hasAny(toks, KW.appointments))
  ) {
    intent = 'clinic_info';
  } else if (hasAny(toks, KW.appointments) || (professional && dates.dateFrom)) {
    intent = 'appointments';
  } else if (cpf || phone || hasAny(toks, KW.patient)) {
    intent = 'patient';
  } else if (hasAny(toks, KW.clinic)) {
    intent = 'clinic_info';
  } else if (GREETING.test(folded) || folded.trim() === '') {
    intent = 'help';
  } else {
    intent = 'out_of_scope';
  }
  return { ...base, intent, clinicTopics: intent === 'clinic_info' ? topics : undefined };
}

import type { Language } from '../models/language.js';

/** Dates as users read them: 05/12 (pt and en alike: the clinics are Brazilian). */
export const ddmm = (d: string): string => `${d.slice(8, 10)}/${d.slice(5, 7)}`;

const WEEKDAYS = {
  pt: ['domingo', 'segunda-feira', 'terça-feira', 'quarta-feira', 'quinta-feira', 'sexta-feira', 'sábado'],
  en: ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'],
} as const;

export function weekdayName(lang: Language, date: string): string {
  const name = WEEKDAYS[lang][new Date(`${date}T12:00:00Z`).getUTCDay()];
  if (name === undefined) {
    throw new Error(`not a YYYY-MM-DD date: ${date}`);
  }
  return name;
}

const STATUS = {
  pt: {
    scheduled: 'agendada',
    confirmed: 'confirmada',
    completed: 'realizada',
    cancelled: 'cancelada',
    no_show: 'falta',
  },
  en: {
    scheduled: 'scheduled',
    confirmed: 'confirmed',
    completed: 'completed',
    cancelled: 'cancelled',
    no_show: 'no-show',
  },
} as const;
export type StatusKey = keyof (typeof STATUS)['pt'];

const DAY_GROUPS: Record<Language, Record<string, string>> = {
  pt: { mon: 'seg', tue: 'ter', wed: 'qua', thu: 'qui', fri: 'sex', sat: 'sáb', sun: 'dom' },
  en: { mon: 'Mon', tue: 'Tue', wed: 'Wed', thu: 'Thu', fri: 'Fri', sat: 'Sat', sun: 'Sun' },
};

/**
 * Every user-facing sentence of the agent, in pt-BR and English: the local model's answers, the
 * server-rendered proposal summaries and the fallback texts. One place to read and translate.
 */
export const MESSAGES = {
  pt: {
    status: (s: StatusKey): string => STATUS.pt[s],
    days: (spec: string) => spec.replace(/[a-z]{3}/g, (d) => DAY_GROUPS.pt[d] ?? d).replace('-', ' a '),
    askPatient: 'De qual paciente? Informe o nome, o CPF ou o telefone.',
    noPatient: (q: string) => `Não encontrei nenhum paciente para "${q}".`,
    manyPatients: (n: number) => `Encontrei ${n} pacientes; qual deles?`,
    patientGone: 'Não encontrei esse paciente.',
    patientsFound: (n: number) => `Encontrei ${n} paciente${n > 1 ? 's' : ''}:`,
    patient: 'Paciente',
    born: 'Nascimento',
    phone: 'Telefone',
    upcoming: 'Próximas consultas',
    noUpcoming: 'Nenhuma consulta futura.',
    noAppointments: (status: string, who: string, when: string) =>
      `Não há consultas${status ? ` ${status}s` : ''}${who ? ` de ${who}` : ''} ${when}.`,
    noActive: (who: string, when: string) => `${who ? `${who} não tem` : 'Não há'} consultas ativas ${when}.`,
    appointments: (who: string, n: number, when: string) =>
      `${who ? `${who} tem` : 'Há'} ${n} consulta${n > 1 ? 's' : ''} ${when}:`,
    pastAppointments: (who: string, n: number, when: string) =>
      `${who ? `${who} teve` : 'Tivemos'} ${n} consulta${n > 1 ? 's' : ''} ${when}:`,
    cancelledApart: (n: number) => `${n} cancelada${n > 1 ? 's' : ''}:`,
    truncated: 'A lista foi cortada; peça um período menor para ver todas.',
    range: (from: string, to: string) => `de ${ddmm(from)} a ${ddmm(to)}`,
    onDay: (d: string) => `em ${ddmm(d)}`,
    whichProfessional: 'De qual profissional?',
    professionals: 'Profissionais',
    freeSlots: (name: string, when: string, slots: string) => `Horários livres de ${name} ${when}: ${slots}.`,
    noFreeSlots: (name: string, when: string) => `${name} não tem horários livres ${when}.`,
    closed: (when: string) => `A clínica não abre ${when}.`,
    needForBooking: (missing: string[]) => `Para agendar, preciso de: ${missing.join(', ')}.`,
    missing: { patient: 'o paciente', professional: 'o profissional', date: 'a data', time: 'o horário' },
    inThePast: 'Esse horário já passou; escolha outro.',
    confirmQuestion: (summary: string) => `${summary}\nConfirma? Responda "sim" ou use o botão Confirmar.`,
    declined: (action: string) => `Tudo bem, não ${action} nada. Posso ajudar com mais alguma coisa?`,
    declinedVerb: { book: 'agendei', cancel: 'cancelei', reschedule: 'remarquei' },
    stillPending: (summary: string) =>
      `Ainda não fiz nada. A proposta pendente é: ${summary}\nPara confirmar, responda apenas "sim"; para desistir, "não".`,
    noneToCancel: (name: string) => `${name} não tem consultas a cancelar nesse período.`,
    noneToReschedule: (name: string) => `${name} não tem consultas a remarcar nesse período.`,
    whichAppointment: (verb: string) => `Há mais de uma consulta; qual delas devo ${verb}?`,
    verbCancel: 'cancelar',
    verbReschedule: 'remarcar',
    rescheduleNeeds: 'Para remarcar, preciso da nova data e do novo horário.',
    booked: (a: { procedure: string; patient_name: string; professional_name: string; date: string; start: string }) =>
      `Pronto! Agendei ${a.procedure} para ${a.patient_name} com ${a.professional_name} em ${ddmm(a.date)} às ${a.start}.`,
    cancelled: (a: { patient_name: string; date: string; start: string }) =>
      `Pronto! Cancelei a consulta de ${a.patient_name} em ${ddmm(a.date)} às ${a.start}.`,
    rescheduled: (a: { patient_name: string; professional_name: string; date: string; start: string }) =>
      `Pronto! Remarquei a consulta de ${a.patient_name} com ${a.professional_name} para ${ddmm(a.date)} às ${a.start}.`,
    conflict: 'Não consegui: esse horário já está ocupado. Quer que eu procure horários livres?',
    alreadyCancelled: 'Essa consulta já estava cancelada.',
    notCancellable: 'Essa consulta não pode mais ser cancelada.',
    notReschedulable: 'Essa consulta não pode ser remarcada (cancelada ou já realizada).',
    refused: {
      no_pending_proposal: 'Não há nenhuma proposta aguardando confirmação; nada foi alterado.',
      unknown_proposal: 'Essa não é a proposta pendente; nada foi alterado.',
      proposal_expired: 'A proposta expirou; nada foi alterado. Peça de novo para eu refazê-la.',
      confirmation_required: 'Não fiz nenhuma alteração: preciso da sua confirmação explícita ("sim").',
    },
    appointmentGone: 'Não encontrei essa consulta.',
    unknownProfessional: (name: string, list: string) =>
      `Não encontrei o profissional "${name}". Profissionais da clínica: ${list}.`,
    notLinked: (list: string) => `Seu usuário não está vinculado a um profissional da clínica. Profissionais: ${list}.`,
    clinicName: (name: string) => `${name}`,
    hours: 'Horário de funcionamento',
    services: 'Serviços e procedimentos',
    minutes: 'min',
    address: 'Endereço',
    outOfScope:
      'Sou o assistente da clínica e só ajudo com pacientes, agenda, horários livres e informações da clínica. Posso ajudar com algo disso?',
    injection:
      'Não sigo instruções para ignorar minhas regras. Alterações na agenda só acontecem uma de cada vez, com a sua confirmação.',
    help: 'Olá! Sou o assistente da clínica. Posso buscar pacientes (nome, CPF ou telefone), mostrar a agenda de qualquer dia ou período (também de um profissional), horários livres, horários e serviços da clínica, e agendar, remarcar ou cancelar consultas com a sua confirmação.',
    exhausted: ' Não consegui concluir esta solicitação; tente reformulá-la.',
    proposalSummary: {
      book: (p: ProposalText) =>
        `Agendar ${p.procedure} para ${p.patient} com ${p.professional} em ${p.weekday}, ${ddmm(p.date)}, das ${p.start} às ${p.end}.`,
      cancel: (p: ProposalText) =>
        `Cancelar a consulta de ${p.patient} com ${p.professional} (${p.procedure}) em ${p.weekday}, ${ddmm(p.date)}, às ${p.start}.`,
      reschedule: (p: ProposalText) =>
        `Remarcar a consulta de ${p.patient} com ${p.professional} (${p.procedure}) de ${ddmm(p.fromDate ?? '')} às ${p.fromStart ?? ''} para ${p.weekday}, ${ddmm(p.date)}, das ${p.start} às ${p.end}.`,
    },
  },
  en: {
    status: (s: StatusKey): string => STATUS.en[s],
    days: (spec: string) => spec.replace(/[a-z]{3}/g, (d) => DAY_GROUPS.en[d] ?? d).replace('-', '–'),
    askPatient: 'Which patient? Please give the name, CPF or phone.',
    noPatient: (q: string) => `I could not find any patient matching "${q}".`,
    manyPatients: (n: number) => `I found ${n} patients; which one?`,
    patientGone: 'I could not find that patient.',
    patientsFound: (n: number) => `I found ${n} patient${n > 1 ? 's' : ''}:`,
    patient: 'Patient',
    born: 'Born',
    phone: 'Phone',
    upcoming: 'Upcoming appointments',
    noUpcoming: 'No upcoming appointments.',
    noAppointments: (status: string, who: string, when: string) =>
      `There are no${status ? ` ${status}` : ''} appointments${who ? ` for ${who}` : ''} ${when}.`,
    noActive: (who: string, when: string) => `${who ? `${who} has` : 'There are'} no active appointments ${when}.`,
    appointments: (who: string, n: number, when: string) =>
      `${who ? `${who} has` : 'There are'} ${n} appointment${n > 1 ? 's' : ''} ${when}:`,
    pastAppointments: (who: string, n: number, when: string) =>
      `${who ? `${who} had` : 'There were'} ${n} appointment${n > 1 ? 's' : ''} ${when}:`,
    cancelledApart: (n: number) => `${n} cancelled:`,
    truncated: 'The list was cut; ask for a shorter period to see all of them.',
    range: (from: string, to: string) => `from ${ddmm(from)} to ${ddmm(to)}`,
    onDay: (d: string) => `on ${ddmm(d)}`,
    whichProfessional: 'For which professional?',
    professionals: 'Professionals',
    freeSlots: (name: string, when: string, slots: string) => `Free slots for ${name} ${when}: ${slots}.`,
    noFreeSlots: (name: string, when: string) => `${name} has no free slots ${when}.`,
    closed: (when: string) => `The clinic is closed ${when}.`,
    needForBooking: (missing: string[]) => `To book, I need: ${missing.join(', ')}.`,
    missing: { patient: 'the patient', professional: 'the professional', date: 'the date', time: 'the time' },
    inThePast: 'That time is in the past; please pick another.',
    confirmQuestion: (summary: string) => `${summary}\nShall I? Reply "yes" or use the Confirm button.`,
    declined: (action: string) => `Alright, I did not ${action} anything. Anything else?`,
    declinedVerb: { book: 'book', cancel: 'cancel', reschedule: 'reschedule' },
    stillPending: (summary: string) =>
      `I have not done anything yet. The pending proposal is: ${summary}\nTo confirm, reply just "yes"; to drop it, "no".`,
    noneToCancel: (name: string) => `${name} has no appointments to cancel in that period.`,
    noneToReschedule: (name: string) => `${name} has no appointments to reschedule in that period.`,
    whichAppointment: (verb: string) => `There is more than one appointment; which one should I ${verb}?`,
    verbCancel: 'cancel',
    verbReschedule: 'reschedule',
    rescheduleNeeds: 'To reschedule, I need the new date and time.',
    booked: (a: { procedure: string; patient_name: string; professional_name: string; date: string; start: string }) =>
      `Done! I booked ${a.procedure} for ${a.patient_name} with ${a.professional_name} on ${ddmm(a.date)} at ${a.start}.`,
    cancelled: (a: { patient_name: string; date: string; start: string }) =>
      `Done! I cancelled ${a.patient_name}'s appointment on ${ddmm(a.date)} at ${a.start}.`,
    rescheduled: (a: { patient_name: string; professional_name: string; date: string; start: string }) =>
      `Done! I moved ${a.patient_name}'s appointment with ${a.professional_name} to ${ddmm(a.date)} at ${a.start}.`,
    conflict: 'I could not: that slot is already taken. Shall I look for free slots?',
    alreadyCancelled: 'That appointment was already cancelled.',
    notCancellable: 'That appointment can no longer be cancelled.',
    notReschedulable: 'That appointment cannot be rescheduled (cancelled or already done).',
    refused: {
      no_pending_proposal: 'There is no proposal waiting for confirmation; nothing was changed.',
      unknown_proposal: 'That is not the pending proposal; nothing was changed.',
      proposal_expired: 'The proposal expired; nothing was changed. Ask again and I will redo it.',
      confirmation_required: 'I made no change: I need your explicit confirmation ("yes").',
    },
    appointmentGone: 'I could not find that appointment.',
    unknownProfessional: (name: string, list: string) =>
      `I could not find the professional "${name}". The clinic's professionals: ${list}.`,
    notLinked: (list: string) =>
      `Your user is not linked to one of the clinic's professionals. Professionals: ${list}.`,
    clinicName: (name: string) => `${name}`,
    hours: 'Opening hours',
    services: 'Services and procedures',
    minutes: 'min',
    address: 'Address',
    outOfScope:
      'I am the clinic assistant and only help with patients, the schedule, free slots and clinic information. Can I help with any of that?',
    injection:
      'I do not follow instructions to ignore my rules. Schedule changes happen one at a time, with your confirmation.',
    help: 'Hello! I am the clinic assistant. I can look up patients (name, CPF or phone), show the schedule for any day or period (also for one professional), free slots, the clinic hours and services, and book, reschedule or cancel appointments once you confirm.',
    exhausted: ' I could not complete this request; please rephrase it.',
    proposalSummary: {
      book: (p: ProposalText) =>
        `Book ${p.procedure} for ${p.patient} with ${p.professional} on ${p.weekday}, ${ddmm(p.date)}, ${p.start}–${p.end}.`,
      cancel: (p: ProposalText) =>
        `Cancel ${p.patient}'s appointment with ${p.professional} (${p.procedure}) on ${p.weekday}, ${ddmm(p.date)}, at ${p.start}.`,
      reschedule: (p: ProposalText) =>
        `Move ${p.patient}'s appointment with ${p.professional} (${p.procedure}) from ${ddmm(p.fromDate ?? '')} at ${p.fromStart ?? ''} to ${p.weekday}, ${ddmm(p.date)}, ${p.start}–${p.end}.`,
    },
  },
} satisfies Record<Language, unknown>;

/** The fields a proposal summary shows: who, what, when, with whom. */
export interface ProposalText {
  patient: string;
  professional: string;
  procedure: string;
  date: string;
  weekday: string;
  start: string;
  end: string;
  fromDate?: string;
  fromStart?: string;
}

export type Catalogue = (typeof MESSAGES)['pt'];

import { setTimeout as sleep } from 'node:timers/promises';
import type { CallbackManagerForLLMRun } from '@langchain/core/callbacks/manager';
import {
  BaseChatModel,
  type BaseChatModelParams,
  type BindToolsInput,
} from '@langchain/core/language_models/chat_models';
import type { BaseLanguageModelInput } from '@langchain/core/language_models/base';
import {
  AIMessage,
  AIMessageChunk,
  type BaseMessage,
  HumanMessage,
  SystemMessage,
  ToolMessage,
} from '@langchain/core/messages';
import { ChatGenerationChunk, type ChatResult } from '@langchain/core/outputs';
import type { Runnable } from '@langchain/core/runnables';
import { isExplicitConfirmation, isExplicitRefusal } from '../tools/action-proposal.js';
import { SELF_PROFESSIONAL } from '../tools/clinic-tools.js';
import { addDays, DEFAULT_TIMEZONE, localDate } from '../tools/clinic-time.js';
import { type Language, tokenize } from './language.js';
import { type Understanding, understand } from './local-nlu.js';

export interface LocalClinicModelFields extends BaseChatModelParams {
  /** Pause between streamed tokens (to make streaming visible in development). */
  tokenDelayMs?: number;
}

/** Marker lines of the system prompt the local model reads (hosted models just read the prose). */
export const PROMPT_MARKERS = {
  today: 'HOJE_ISO',
  pendingProposal: 'PROPOSTA_PENDENTE_ID',
  pendingAction: 'PROPOSTA_PENDENTE_ACAO',
} as const;

type Plan = { call: { name: string; args: Record<string, unknown> } } | { text: string };

interface ToolResult {
  name: string;
  args: Record<string, unknown>;
  // Tool outputs are JSON produced by our own tools.
  data: Record<string, unknown>;
}

interface ApptView {
  id: string;
  patient_name: string;
  professional_name: string;
  date: string;
  start: string;
  end: string;
  procedure: string;
  status: string;
}

const STATUS_PT: Record<string, string> = {
  scheduled: 'agendada',
  confirmed: 'confirmada',
  completed: 'realizada',
  cancelled: 'cancelada',
  no_show: 'falta',
};

const ddmm = (d: string): string => `${d.slice(8, 10)}/${d.slice(5, 7)}`;

/**
 * A deterministic, offline chat model for clinic requests in pt-BR and English. It plans like a
 * tool-calling LLM — emitting real `tool_calls`, reading the `ToolMessage`s fed back — so it
 * drives exactly the same agent loop as a hosted model, and it answers only from tool results.
 */
export class LocalClinicModel extends BaseChatModel {
  private readonly tokenDelayMs: number;
  private boundTools: Set<string> | undefined;

  static override lc_name(): string {
    return 'LocalClinicModel';
  }

  constructor(fields: LocalClinicModelFields = {}) {
    super(fields);
    this.tokenDelayMs = fields.tokenDelayMs ?? 0;
  }

  _llmType(): string {
    return 'neonpro-local';
  }

  override bindTools(tools: BindToolsInput[]): Runnable<BaseLanguageModelInput, AIMessageChunk> {
    const bound = new LocalClinicModel({ tokenDelayMs: this.tokenDelayMs });
    bound.boundTools = new Set(tools.map((t) => ('name' in t && typeof t.name === 'string' ? t.name : '')));
    return bound;
  }

  _generate(messages: BaseMessage[]): Promise<ChatResult> {
    const plan = this.plan(messages);
    const message =
      'call' in plan
        ? new AIMessage({
            content: '',
            tool_calls: [{ id: this.callId(messages), name: plan.call.name, args: plan.call.args, type: 'tool_call' }],
          })
        : new AIMessage({ content: plan.text });
    return Promise.resolve({ generations: [{ text: 'text' in plan ? plan.text : '', message }] });
  }

  override async *_streamResponseChunks(
    messages: BaseMessage[],
    options: this['ParsedCallOptions'],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatGenerationChunk> {
    const plan = this.plan(messages);
    if ('call' in plan) {
      yield new ChatGenerationChunk({
        text: '',
        message: new AIMessageChunk({
          content: '',
          tool_call_chunks: [
            {
              type: 'tool_call_chunk',
              id: this.callId(messages),
              name: plan.call.name,
              args: JSON.stringify(plan.call.args),
              index: 0,
            },
          ],
        }),
      });
      return;
    }
    for (const token of tokenize(plan.text)) {
      if (this.tokenDelayMs > 0) {
        await sleep(this.tokenDelayMs, undefined, { signal: options.signal });
      }
      options.signal?.throwIfAborted();
      const chunk = new ChatGenerationChunk({ text: token, message: new AIMessageChunk({ content: token }) });
      yield chunk;
      await runManager?.handleLLMNewToken(token, undefined, undefined, undefined, undefined, { chunk });
    }
  }

  private callId(messages: BaseMessage[]): string {
    return `local_call_${messages.length}`;
  }

  private canCall(name: string): boolean {
    return !this.boundTools || this.boundTools.has(name);
  }

  /** Decides the next step from the conversation so far: a tool call, or the final answer. */
  plan(messages: BaseMessage[]): Plan {
    const system = messages.find((m) => SystemMessage.isInstance(m));
    const systemText = typeof system?.content === 'string' ? system.content : '';
    const marker = (name: string) => new RegExp(`${name}: (\\S+)`).exec(systemText)?.[1];
    const today = marker(PROMPT_MARKERS.today) ?? localDate(new Date(), DEFAULT_TIMEZONE);
    const pendingId = marker(PROMPT_MARKERS.pendingProposal);
    const pendingAction = marker(PROMPT_MARKERS.pendingAction);

    let lastHuman = -1;
    messages.forEach((m, i) => {
      if (HumanMessage.isInstance(m)) {
        lastHuman = i;
      }
    });
    const human = lastHuman >= 0 ? messages[lastHuman].content : '';
    const userText: string = typeof human === 'string' ? human : '';
    const results = this.resultsSince(messages, lastHuman);
    const u = understand(userText, today);
    const done = (name: string) => results.find((r) => r.name === name);

    // A pending proposal turns "sim" / "yes, confirm" into the write, and "não" into nothing.
    if (pendingId && (pendingAction === 'book' || pendingAction === 'cancel')) {
      const tool = pendingAction === 'book' ? 'book_appointment' : 'cancel_appointment';
      if (isExplicitConfirmation(userText) && this.canCall(tool)) {
        const r = done(tool);
        if (!r) {
          return { call: { name: tool, args: { proposal_id: pendingId, confirmed: true } } };
        }
        return { text: this.answerWrite(u.lang, r) };
      }
      if (isExplicitRefusal(userText)) {
        return {
          text:
            u.lang === 'pt'
              ? `Tudo bem, não ${pendingAction === 'book' ? 'agendei' : 'cancelei'} nada. Posso ajudar com mais alguma coisa?`
              : `Alright, I did not ${pendingAction === 'book' ? 'book' : 'cancel'} anything. Anything else?`,
        };
      }
    }

    switch (u.intent) {
      case 'clinic_info': {
        const r = done('clinic_info');
        if (!r) {
          return { call: { name: 'clinic_info', args: {} } };
        }
        return { text: this.answerClinic(u.lang, r.data) };
      }
      case 'patient':
        return this.planPatient(u, done);
      case 'appointments':
        return this.planAppointments(u, today, done);
      case 'free_slots':
        return this.planFreeSlots(u, today, done);
      case 'book':
        return this.planBook(u, done);
      case 'cancel':
        return this.planCancel(u, today, done);
      default:
        return { text: this.help(u.lang) };
    }
  }

  private resultsSince(messages: BaseMessage[], from: number): ToolResult[] {
    const out: ToolResult[] = [];
    const args = new Map<string, Record<string, unknown>>();
    for (const m of messages.slice(from + 1)) {
      if (AIMessage.isInstance(m)) {
        for (const c of m.tool_calls ?? []) {
          if (c.id) {
            args.set(c.id, c.args);
          }
        }
      }
      if (ToolMessage.isInstance(m)) {
        let data: Record<string, unknown>;
        try {
          data = JSON.parse(typeof m.content === 'string' ? m.content : '') as Record<string, unknown>;
        } catch {
          data = { error: 'unreadable' };
        }
        out.push({ name: m.name ?? '', args: args.get(m.tool_call_id) ?? {}, data });
      }
    }
    return out;
  }

  /** Resolves the patient the user named; a text plan when there is nothing (or too much) to go on. */
  private findPatient(
    u: Understanding,
    done: (n: string) => ToolResult | undefined,
  ): { call: Plan } | { patient: { id: string; full_name: string } } | { text: string } {
    if (!u.patientQuery) {
      return {
        text:
          u.lang === 'pt'
            ? 'De qual paciente? Informe o nome ou o CPF.'
            : 'Which patient? Please give the name or CPF.',
      };
    }
    const r = done('search_patients');
    if (!r) {
      return { call: { call: { name: 'search_patients', args: { query: u.patientQuery, limit: 10 } } } };
    }
    const patients = (r.data.patients as { id: string; full_name: string; cpf: string | null }[] | undefined) ?? [];
    if (patients.length === 0) {
      return {
        text:
          u.lang === 'pt'
            ? `Não encontrei nenhum paciente para "${u.patientQuery}".`
            : `I could not find any patient matching "${u.patientQuery}".`,
      };
    }
    if (patients.length > 1) {
      return {
        text:
          (u.lang === 'pt'
            ? `Encontrei ${patients.length} pacientes; qual deles?\n`
            : `I found ${patients.length} patients; which one?\n`) +
          patients.map((p) => `- ${p.full_name}${p.cpf ? ` (CPF ${p.cpf})` : ''}`).join('\n'),
      };
    }
    return { patient: patients[0] };
  }

  private planPatient(u: Understanding, done: (n: string) => ToolResult | undefined): Plan {
    const found = this.findPatient(u, done);
    if ('call' in found) {
      return found.call;
    }
    if ('text' in found) {
      return found;
    }
    const s = done('get_patient_summary');
    if (!s) {
      return { call: { name: 'get_patient_summary', args: { patient_id: found.patient.id } } };
    }
    const p = s.data.patient as
      | { full_name: string; cpf: string | null; birth_date: string | null; phone: string | null; email: string | null }
      | undefined;
    if (!p) {
      return { text: u.lang === 'pt' ? 'Não encontrei esse paciente.' : 'I could not find that patient.' };
    }
    const upcoming = (s.data.upcoming as ApptView[] | undefined) ?? [];
    const pt = u.lang === 'pt';
    const lines = [
      pt ? `Paciente: ${p.full_name}` : `Patient: ${p.full_name}`,
      p.cpf ? `CPF: ${p.cpf}` : undefined,
      p.birth_date ? `${pt ? 'Nascimento' : 'Born'}: ${ddmm(p.birth_date)}/${p.birth_date.slice(0, 4)}` : undefined,
      p.phone ? `${pt ? 'Telefone' : 'Phone'}: ${p.phone}` : undefined,
      p.email ? `E-mail: ${p.email}` : undefined,
      upcoming.length
        ? `${pt ? 'Próximas consultas' : 'Upcoming appointments'}:\n${upcoming.map((a) => this.apptLine(u.lang, a, true)).join('\n')}`
        : pt
          ? 'Nenhuma consulta futura.'
          : 'No upcoming appointments.',
    ];
    return { text: lines.filter(Boolean).join('\n') };
  }

  private planAppointments(u: Understanding, today: string, done: (n: string) => ToolResult | undefined): Plan {
    let patientId: string | undefined;
    if (u.patientQuery) {
      const found = this.findPatient(u, done);
      if ('call' in found) {
        return found.call;
      }
      if ('text' in found) {
        return found;
      }
      patientId = found.patient.id;
    }
    const from = u.dateFrom ?? today;
    const to = u.dateTo ?? (u.dateFrom ? from : patientId ? addDays(today, 60) : today);
    const r = done('list_appointments');
    if (!r) {
      const args: Record<string, unknown> = { date_from: from, date_to: to };
      if (patientId) {
        args.patient_id = patientId;
      }
      if (u.professional) {
        args.professional = u.professional;
      }
      if (u.status) {
        args.status = u.status;
      }
      return { call: { name: 'list_appointments', args } };
    }
    const pt = u.lang === 'pt';
    if (r.data.error === 'professional_not_found') {
      return { text: this.unknownProfessional(u, r.data) };
    }
    const list = (r.data.appointments as ApptView[] | undefined) ?? [];
    const label = u.dateLabel ?? (from === to ? ddmm(from) : `${ddmm(from)}–${ddmm(to)}`);
    const who = (r.data.professional as string | undefined) ?? undefined;
    const multiDay = from !== to;
    if (list.length === 0) {
      return {
        text: pt
          ? `Não há consultas${u.status ? ` ${STATUS_PT[u.status]}s` : ''}${who ? ` de ${who}` : ''} ${label.startsWith('n') || label.startsWith('a') || label.startsWith('h') || label.startsWith('d') ? label : `em ${label}`}.`
          : `There are no${u.status ? ` ${u.status.replace('_', '-')}` : ''} appointments${who ? ` for ${who}` : ''} ${label}.`,
      };
    }
    // Without an explicit status filter, cancelled appointments are not "appointments someone has":
    // count the active ones and mention the cancelled ones apart.
    const active = u.status ? list : list.filter((a) => a.status !== 'cancelled');
    const cancelled = u.status ? [] : list.filter((a) => a.status === 'cancelled');
    const when = `${label}${from === to && u.dateLabel ? ` (${ddmm(from)})` : ''}`;
    const lines = (xs: ApptView[]): string => xs.map((a) => this.apptLine(u.lang, a, multiDay, !who)).join('\n');
    let text: string;
    if (active.length === 0) {
      text = pt
        ? `${who ? `${who} não tem` : 'Não há'} consultas ativas ${when}.`
        : `${who ? `${who} has` : 'There are'} no active appointments ${when}.`;
    } else {
      text = pt
        ? `${who ? `${who} tem` : 'Há'} ${active.length} consulta${active.length > 1 ? 's' : ''} ${when}:\n${lines(active)}`
        : `${who ? `${who} has` : 'There are'} ${active.length} appointment${active.length > 1 ? 's' : ''} ${when}:\n${lines(active)}`;
    }
    if (cancelled.length) {
      text += pt
        ? `\n${cancelled.length} cancelada${cancelled.length > 1 ? 's' : ''}:\n${lines(cancelled)}`
        : `\n${cancelled.length} cancelled:\n${lines(cancelled)}`;
    }
    return { text };
  }

  private planFreeSlots(u: Understanding, today: string, done: (n: string) => ToolResult | undefined): Plan {
    const pt = u.lang === 'pt';
    if (!u.professional) {
      const info = done('clinic_info');
      if (!info) {
        return { call: { name: 'clinic_info', args: {} } };
      }
      return {
        text: `${pt ? 'De qual profissional? ' : 'For which professional? '}${this.professionalNames(info.data)}`,
      };
    }
    const date = u.dateFrom ?? today;
    const r = done('find_free_slots');
    if (!r) {
      const args: Record<string, unknown> = { professional: u.professional, date };
      if (u.durationMinutes) {
        args.duration_minutes = u.durationMinutes;
      }
      return { call: { name: 'find_free_slots', args } };
    }
    if (r.data.error === 'professional_not_found') {
      return { text: this.unknownProfessional(u, r.data) };
    }
    const slots = (r.data.slots as { start: string; end: string }[] | undefined) ?? [];
    const name = (r.data.professional as { full_name: string }).full_name;
    const label = u.dateLabel ? `${u.dateLabel} (${ddmm(date)})` : ddmm(date);
    if (slots.length === 0) {
      return { text: pt ? `${name} não tem horários livres ${label}.` : `${name} has no free slots ${label}.` };
    }
    return {
      text: `${pt ? `Horários livres de ${name} ${label}` : `Free slots for ${name} ${label}`}: ${slots.map((s) => s.start).join(', ')}.`,
    };
  }

  private planBook(u: Understanding, done: (n: string) => ToolResult | undefined): Plan {
    const pt = u.lang === 'pt';
    const missing = [
      !u.patientQuery && (pt ? 'o paciente' : 'the patient'),
      !u.professional && (pt ? 'o profissional' : 'the professional'),
      !u.dateFrom && (pt ? 'a data' : 'the date'),
      !u.time && (pt ? 'o horário' : 'the time'),
    ].filter(Boolean);
    if (missing.length) {
      return {
        text: pt ? `Para agendar, preciso de: ${missing.join(', ')}.` : `To book, I need: ${missing.join(', ')}.`,
      };
    }
    const found = this.findPatient(u, done);
    if ('call' in found) {
      return found.call;
    }
    if ('text' in found) {
      return found;
    }
    const r = done('book_appointment');
    if (!r) {
      const args: Record<string, unknown> = {
        patient_id: found.patient.id,
        professional: u.professional,
        date: u.dateFrom,
        time: u.time,
        procedure: u.procedure ?? 'Consulta',
      };
      if (u.durationMinutes) {
        args.duration_minutes = u.durationMinutes;
      }
      return { call: { name: 'book_appointment', args } };
    }
    if (r.data.error === 'professional_not_found') {
      return { text: this.unknownProfessional(u, r.data) };
    }
    if (r.data.error === 'in_the_past') {
      return { text: pt ? 'Esse horário já passou; escolha outro.' : 'That time is in the past; please pick another.' };
    }
    if (r.data.status !== 'confirmation_required') {
      return { text: this.answerWrite(u.lang, r) };
    }
    const s = r.data.summary as {
      patient_name: string;
      professional_name: string;
      date: string;
      start: string;
      end: string;
      procedure: string;
    };
    return {
      text: pt
        ? `Posso agendar ${s.procedure} para ${s.patient_name} com ${s.professional_name} em ${ddmm(s.date)}, das ${s.start} às ${s.end}. Confirma? Responda "sim" para confirmar.`
        : `I can book ${s.procedure} for ${s.patient_name} with ${s.professional_name} on ${ddmm(s.date)}, ${s.start}–${s.end}. Shall I? Reply "yes, confirm" to confirm.`,
    };
  }

  private planCancel(u: Understanding, today: string, done: (n: string) => ToolResult | undefined): Plan {
    const pt = u.lang === 'pt';
    const found = this.findPatient(u, done);
    if ('call' in found) {
      return found.call;
    }
    if ('text' in found) {
      return found;
    }
    const r = done('list_appointments');
    if (!r) {
      const args: Record<string, unknown> = {
        date_from: u.dateFrom ?? today,
        date_to: u.dateTo ?? addDays(today, 60),
        patient_id: found.patient.id,
      };
      if (u.professional) {
        args.professional = u.professional;
      }
      return { call: { name: 'list_appointments', args } };
    }
    const open = ((r.data.appointments as ApptView[] | undefined) ?? []).filter(
      (a) => (a.status === 'scheduled' || a.status === 'confirmed') && (!u.time || a.start === u.time),
    );
    if (open.length === 0) {
      return {
        text: pt
          ? `${found.patient.full_name} não tem consultas a cancelar nesse período.`
          : `${found.patient.full_name} has no appointments to cancel in that period.`,
      };
    }
    if (open.length > 1) {
      return {
        text:
          (pt
            ? 'Há mais de uma consulta; qual delas devo cancelar?\n'
            : 'There is more than one appointment; which one should I cancel?\n') +
          open.map((a) => this.apptLine(u.lang, a, true)).join('\n'),
      };
    }
    const c = done('cancel_appointment');
    if (!c) {
      return { call: { name: 'cancel_appointment', args: { appointment_id: open[0].id } } };
    }
    if (c.data.status !== 'confirmation_required') {
      return { text: this.answerWrite(u.lang, c) };
    }
    const a = open[0];
    return {
      text: pt
        ? `Vou cancelar a consulta de ${a.patient_name} com ${a.professional_name} em ${ddmm(a.date)} às ${a.start} (${a.procedure}). Confirma? Responda "sim" para confirmar.`
        : `I will cancel ${a.patient_name}'s appointment with ${a.professional_name} on ${ddmm(a.date)} at ${a.start} (${a.procedure}). Shall I? Reply "yes, confirm" to confirm.`,
    };
  }

  private answerWrite(lang: Language, r: ToolResult): string {
    const pt = lang === 'pt';
    const a = r.data.appointment as ApptView | undefined;
    switch (r.data.status) {
      case 'booked':
        return pt
          ? `Pronto! Agendei ${a?.procedure} para ${a?.patient_name} com ${a?.professional_name} em ${ddmm(a?.date ?? '')} às ${a?.start}.`
          : `Done! I booked ${a?.procedure} for ${a?.patient_name} with ${a?.professional_name} on ${ddmm(a?.date ?? '')} at ${a?.start}.`;
      case 'conflict':
        return pt
          ? 'Não consegui agendar: esse horário já está ocupado. Quer que eu procure horários livres?'
          : 'I could not book it: that slot is already taken. Shall I look for free slots?';
      case 'cancelled':
        return pt
          ? `Pronto! Cancelei a consulta de ${a?.patient_name} em ${ddmm(a?.date ?? '')} às ${a?.start}.`
          : `Done! I cancelled ${a?.patient_name}'s appointment on ${ddmm(a?.date ?? '')} at ${a?.start}.`;
      case 'already_cancelled':
        return pt ? 'Essa consulta já estava cancelada.' : 'That appointment was already cancelled.';
      case 'not_cancellable':
        return pt ? 'Essa consulta não pode mais ser cancelada.' : 'That appointment can no longer be cancelled.';
      case 'refused':
        return pt
          ? 'Não fiz nenhuma alteração: preciso da sua confirmação explícita para a proposta atual.'
          : 'I made no change: I need your explicit confirmation of the current proposal.';
      default:
        return pt ? 'Não encontrei essa consulta.' : 'I could not find that appointment.';
    }
  }

  private apptLine(lang: Language, a: ApptView, withDate: boolean, withProfessional = false): string {
    const status = lang === 'pt' ? (STATUS_PT[a.status] ?? a.status) : a.status.replace('_', '-');
    return `- ${withDate ? `${ddmm(a.date)} ` : ''}${a.start}–${a.end} · ${a.patient_name} · ${a.procedure}${withProfessional ? ` · ${a.professional_name}` : ''} (${status})`;
  }

  private professionalNames(data: Record<string, unknown>): string {
    const list =
      (data.professionals as { full_name: string; specialty?: string | null }[] | string[] | undefined) ?? [];
    return list
      .map((p) => (typeof p === 'string' ? p : `${p.full_name}${p.specialty ? ` (${p.specialty})` : ''}`))
      .join(', ');
  }

  private unknownProfessional(u: Understanding, data: Record<string, unknown>): string {
    if (u.professional === SELF_PROFESSIONAL) {
      return u.lang === 'pt'
        ? `Seu usuário não está vinculado a um profissional da clínica. Profissionais: ${this.professionalNames(data)}.`
        : `Your user is not linked to one of the clinic's professionals. Professionals: ${this.professionalNames(data)}.`;
    }
    return u.lang === 'pt'
      ? `Não encontrei o profissional "${u.professional}". Profissionais da clínica: ${this.professionalNames(data)}.`
      : `I could not find the professional "${u.professional}". The clinic's professionals: ${this.professionalNames(data)}.`;
  }

  private answerClinic(lang: Language, data: Record<string, unknown>): string {
    return lang === 'pt'
      ? `${String(data.name)} — profissionais: ${this.professionalNames(data)}.`
      : `${String(data.name)} — professionals: ${this.professionalNames(data)}.`;
  }

  private help(lang: Language): string {
    return lang === 'pt'
      ? 'Olá! Sou o assistente da clínica. Posso consultar pacientes por nome ou CPF, listar consultas de hoje, amanhã ou da semana (também de um profissional, por exemplo "quais consultas a Dra. Lima tem amanhã?"), mostrar horários livres e agendar ou cancelar consultas com a sua confirmação.'
      : 'Hello! I am the clinic assistant. I can look up patients by name or CPF, list appointments for today, tomorrow or this week (also for one professional, e.g. "what appointments does Dr. Lima have tomorrow?"), show free slots, and book or cancel appointments once you confirm.';
  }
}

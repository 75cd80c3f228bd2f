import { setTimeout as sleep } from 'node:timers/promises';
import type { CallbackManagerForLLMRun } from '@langchain/core/callbacks/manager';
import {
  BaseChatModel,
  type BaseChatModelCallOptions,
  type BaseChatModelParams,
  type BindToolsInput,
} from '@langchain/core/language_models/chat_models';
import type { BaseLanguageModelInput } from '@langchain/core/language_models/base';
import { AIMessage, AIMessageChunk, type BaseMessage, HumanMessage, ToolMessage } from '@langchain/core/messages';
import { ChatGenerationChunk, type ChatResult } from '@langchain/core/outputs';
import type { Runnable, RunnableConfig } from '@langchain/core/runnables';
import { type ClinicTurn, clinicTurnOf } from '../agent/turn-config.js';
import { type Catalogue, ddmm, MESSAGES } from '../i18n/messages.js';
import { type ActionProposal, isBareNo, isBareYes } from '../tools/action-proposal.js';
import { addDays, DEFAULT_TIMEZONE, localDate, localTime } from '../tools/clinic-time.js';
import { SELF_PROFESSIONAL } from '../tools/tool-args.js';
import {
  type AppointmentView,
  TOOL_OUTPUT_SCHEMAS,
  type ToolName,
  type ToolOutput,
} from '../tools/tool-output.schema.js';
import { type Language, tokenize } from './language.js';
import { type Understanding, understand } from './local-nlu.js';

export interface LocalClinicModelFields extends BaseChatModelParams {
  /**
   * Pause between streamed tokens (to make streaming visible in development). 0: the answer
   * comes as one chunk.
   */
  tokenDelayMs?: number;
}

export interface LocalClinicCallOptions extends BaseChatModelCallOptions {
  /** Copied from the runnable config's `configurable` (LangChain hands models only call options). */
  clinicTurn?: ClinicTurn;
}

type Plan = { call: { name: ToolName; args: Record<string, unknown> } } | { text: string };

/** The tool results of this turn, read back through the tools' own output schemas. */
class Results {
  constructor(private readonly list: { name: string; content: string }[]) {}

  get<N extends ToolName>(name: N): ToolOutput<N> | undefined {
    const found = [...this.list].reverse().find((r) => r.name === name);
    if (!found) {
      return undefined;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(found.content);
    } catch {
      raw = undefined;
    }
    const parsed = TOOL_OUTPUT_SCHEMAS[name].safeParse(raw);
    // A result we cannot read (e.g. {"error":"tool_failed"}) counts as done, with no data.
    return (parsed.success ? parsed.data : { error: 'unreadable' }) as ToolOutput<N>;
  }
}

const isError = (v: object): v is { error: string; professionals?: string[] } => 'error' in v;

/**
 * A deterministic, offline chat model for clinic requests in pt-BR and English. It plans like a
 * tool-calling LLM — emitting real `tool_calls`, reading the `ToolMessage`s fed back — so it
 * drives exactly the same agent loop as a hosted model, and it answers only from tool results.
 */
export class LocalClinicModel extends BaseChatModel<LocalClinicCallOptions> {
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

  /** The turn's facts arrive in the runnable config; pass them on as a call option to the planner. */
  override _streamIterator(
    input: BaseLanguageModelInput,
    options?: Partial<LocalClinicCallOptions> & RunnableConfig,
  ): AsyncGenerator<AIMessageChunk> {
    return super._streamIterator(input, { ...options, clinicTurn: clinicTurnOf(options?.configurable) });
  }

  _generate(messages: BaseMessage[], options: this['ParsedCallOptions']): Promise<ChatResult> {
    const plan = this.plan(messages, options.clinicTurn);
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
    for await (const message of this.chunks(messages, options.clinicTurn, options.signal)) {
      const token = typeof message.content === 'string' ? message.content : '';
      const chunk = new ChatGenerationChunk({ text: token, message });
      yield chunk;
      if (token) {
        await runManager?.handleLLMNewToken(token, undefined, undefined, undefined, undefined, { chunk });
      }
    }
  }

  /**
   * The same chunks as `stream()`, without LangChain's runnable machinery (callback manager,
   * config plumbing, web streams): for an answer computed in-process that machinery cost more
   * than the answer itself (see docs/performance.md, "Chat turn"). `turn` is the agent's own
   * typed object, so it is not parsed again.
   */
  streamTurn(
    messages: BaseMessage[],
    turn: ClinicTurn | undefined,
    signal: AbortSignal,
  ): AsyncGenerator<AIMessageChunk> {
    return this.chunks(messages, turn, signal);
  }

  private async *chunks(
    messages: BaseMessage[],
    turn: ClinicTurn | undefined,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<AIMessageChunk> {
    const plan = this.plan(messages, turn);
    if ('call' in plan) {
      yield new AIMessageChunk({
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
      });
      return;
    }
    if (this.tokenDelayMs === 0) {
      // Nothing paces the answer, and it is all known now: one chunk. Word by word, a greeting was
      // 42 chunks through the agent loop and the run's sequencer, which sent their text as one
      // event anyway (docs/performance.md, chat, "Eleventh pass").
      signal?.throwIfAborted();
      yield new AIMessageChunk({ content: plan.text });
      return;
    }
    for (const token of tokenize(plan.text)) {
      await sleep(this.tokenDelayMs, undefined, { signal });
      signal?.throwIfAborted();
      yield new AIMessageChunk({ content: token });
    }
  }

  private callId(messages: BaseMessage[]): string {
    return `local_call_${messages.length}`;
  }

  /** Decides the next step from the conversation so far: a tool call, or the final answer. */
  plan(messages: BaseMessage[], turn?: ClinicTurn): Plan {
    const today = turn?.today ?? localDate(new Date(), DEFAULT_TIMEZONE);
    const texts = messages.map((m) =>
      HumanMessage.isInstance(m) && typeof m.content === 'string' ? m.content : undefined,
    );
    const humans = texts.flatMap((t, i) => (t === undefined ? [] : [i]));
    const lastHuman = humans.at(-1) ?? -1;
    const userText = texts[lastHuman] ?? '';
    const results = this.resultsSince(messages, lastHuman);
    let u = understand(userText, today);
    // A follow-up that only adds details ("amanhã às 10h", "a Maria Silva") continues the previous request.
    const previousHuman = humans.at(-2);
    const previousText = previousHuman !== undefined ? texts[previousHuman] : undefined;
    const previous = previousText !== undefined ? understand(previousText, today) : undefined;
    const pending = turn?.pending_proposal;
    if (
      !pending &&
      previous &&
      u.intent === 'out_of_scope' &&
      previous.intent !== 'out_of_scope' &&
      previous.intent !== 'help'
    ) {
      u = {
        ...previous,
        ...Object.fromEntries(Object.entries(u).filter(([, v]) => v !== undefined)),
        intent: previous.intent,
        lang: previous.lang,
      };
    }
    const m = MESSAGES[u.lang];

    if (pending) {
      const answer = this.planPending(pending, u, userText, turn?.confirm_id, results, m);
      if (answer) {
        return answer;
      }
    }

    switch (u.intent) {
      case 'clinic_info': {
        const r = results.get('clinic_info');
        if (!r) {
          return { call: { name: 'clinic_info', args: {} } };
        }
        return { text: this.answerClinic(u, r, m) };
      }
      case 'patient':
        return this.planPatient(u, results, m);
      case 'appointments':
        return this.planAppointments(u, today, results, m);
      case 'free_slots':
        return this.planFreeSlots(u, today, results, m);
      case 'book':
        return this.planBook(u, results, m);
      case 'cancel':
        return this.planCancel(u, today, results, m);
      case 'reschedule':
        return this.planReschedule(u, today, results, m);
      case 'injection':
        return { text: m.injection };
      case 'out_of_scope':
        return { text: m.outOfScope };
      default:
        return { text: m.help };
    }
  }

  /** The turn after a proposal: a bare yes writes it, a bare no drops it, a correction re-proposes. */
  private planPending(
    p: ActionProposal,
    u: Understanding,
    userText: string,
    confirmId: string | undefined,
    results: Results,
    m: Catalogue,
  ): Plan | undefined {
    const tool = (
      { book: 'book_appointment', cancel: 'cancel_appointment', reschedule: 'reschedule_appointment' } as const
    )[p.action];
    if (confirmId !== undefined || isBareYes(userText)) {
      const r = results.get(tool);
      if (!r) {
        return { call: { name: tool, args: { proposal_id: confirmId ?? p.id } } };
      }
      return { text: this.answerWrite(r, m) };
    }
    if (isBareNo(userText)) {
      return { text: m.declined(m.declinedVerb[p.action]) };
    }
    // "sim, mas às 15h", "na verdade sexta": the same request with the new date or time.
    const newDate = u.target?.date ?? u.dateFrom;
    const newTime = u.target?.time ?? u.time;
    const newRequest = u.patientQuery !== undefined || u.intent === 'injection';
    if (!newRequest && (newDate || newTime) && p.action !== 'cancel') {
      const tz = DEFAULT_TIMEZONE;
      const start = new Date(p.starts_at);
      const date = newDate ?? localDate(start, tz);
      const time = newTime ?? localTime(start, tz);
      const r = results.get(tool);
      if (!r) {
        const args: Record<string, unknown> =
          p.action === 'book'
            ? {
                patient_id: p.patient_id,
                professional: u.professional ?? p.professional_id,
                date,
                time,
                procedure: p.procedure,
              }
            : { appointment_id: p.appointment_id, date, time };
        return { call: { name: tool, args } };
      }
      return { text: this.answerProposal(r, m) };
    }
    const known = ['appointments', 'patient', 'clinic_info', 'free_slots', 'book', 'cancel', 'reschedule', 'injection'];
    if (known.includes(u.intent) && (u.intent !== 'cancel' || u.patientQuery)) {
      return undefined;
    }
    // A question about the proposal ("sim?", "pode repetir?"): show it again, change nothing.
    return { text: m.stillPending(p.summary) };
  }

  private resultsSince(messages: BaseMessage[], from: number): Results {
    const out: { name: string; content: string }[] = [];
    for (const msg of messages.slice(from + 1)) {
      if (ToolMessage.isInstance(msg)) {
        out.push({ name: msg.name ?? '', content: typeof msg.content === 'string' ? msg.content : '' });
      }
    }
    return new Results(out);
  }

  /** Resolves the patient the user named; a text plan when there is nothing (or too much) to go on. */
  private findPatient(
    u: Understanding,
    results: Results,
    m: Catalogue,
  ): Plan | { patient: { id: string; full_name: string } } {
    if (!u.patientQuery) {
      return { text: m.askPatient };
    }
    return this.onePatient(u.patientQuery, results, m, 10, (n) => m.manyPatients(n));
  }

  /**
   * The one patient matching `query`: a search_patients call of up to `limit` first; then a text
   * plan when none matches, or the list under `several(n)` when more than one does.
   */
  private onePatient(
    query: string,
    results: Results,
    m: Catalogue,
    limit: number,
    several: (n: number) => string,
  ): Plan | { patient: { id: string; full_name: string } } {
    const r = results.get('search_patients');
    if (!r) {
      return { call: { name: 'search_patients', args: { query, limit } } };
    }
    const patients = r.patients ?? [];
    const [patient] = patients;
    if (patient === undefined) {
      return { text: m.noPatient(query) };
    }
    if (patients.length > 1) {
      return {
        text: `${several(patients.length)}\n${patients.map((p) => `- ${p.full_name}${p.cpf ? ` (CPF ${p.cpf})` : ''}`).join('\n')}`,
      };
    }
    return { patient };
  }

  private planPatient(u: Understanding, results: Results, m: Catalogue): Plan {
    if (u.listPatients && !u.cpf && !u.phone && u.patientQuery) {
      // A list was asked for: several matches are the answer; exactly one goes on to its summary.
      const one = this.onePatient(u.patientQuery, results, m, 20, (n) => m.patientsFound(n));
      if (!('patient' in one)) {
        return one;
      }
    }
    const found = this.findPatient(u, results, m);
    if (!('patient' in found)) {
      return found;
    }
    const s = results.get('get_patient_summary');
    if (!s) {
      return { call: { name: 'get_patient_summary', args: { patient_id: found.patient.id } } };
    }
    if (!('found' in s) || !s.found) {
      return { text: m.patientGone };
    }
    const p = s.patient;
    const lines = [
      `${m.patient}: ${p.full_name}`,
      p.cpf ? `CPF: ${p.cpf}` : undefined,
      p.birth_date ? `${m.born}: ${ddmm(p.birth_date)}/${p.birth_date.slice(0, 4)}` : undefined,
      p.phone ? `${m.phone}: ${p.phone}` : undefined,
      p.email ? `E-mail: ${p.email}` : undefined,
      s.upcoming.length
        ? `${m.upcoming}:\n${s.upcoming.map((a) => this.apptLine(m, a, true, true)).join('\n')}`
        : m.noUpcoming,
    ];
    return { text: lines.filter(Boolean).join('\n') };
  }

  private planAppointments(u: Understanding, today: string, results: Results, m: Catalogue): Plan {
    let patientId: string | undefined;
    if (u.patientQuery) {
      const found = this.findPatient(u, results, m);
      if (!('patient' in found)) {
        return found;
      }
      patientId = found.patient.id;
    }
    const from = u.dateFrom ?? today;
    const to = u.dateTo ?? (u.dateFrom ? from : patientId ? addDays(today, 60) : today);
    const r = results.get('list_appointments');
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
    if (isError(r)) {
      return { text: this.explainError(u, r, m) };
    }
    const list = r.appointments;
    const when = u.dateLabel ?? (from === to ? m.onDay(from) : m.range(from, to));
    const who = r.professional ?? '';
    const multiDay = from !== to;
    if (list.length === 0) {
      return { text: m.noAppointments(u.status ? m.status(u.status) : '', who, when) };
    }
    // Without an explicit status filter, cancelled appointments are not "appointments someone has":
    // count the active ones and mention the cancelled ones apart.
    const active = u.status ? list : list.filter((a) => a.status !== 'cancelled');
    const cancelled = u.status ? [] : list.filter((a) => a.status === 'cancelled');
    const lines = (xs: AppointmentView[]): string => xs.map((a) => this.apptLine(m, a, multiDay, !who)).join('\n');
    let text: string;
    if (active.length === 0) {
      text = m.noActive(who, when);
    } else {
      text = `${(u.past ? m.pastAppointments : m.appointments)(who, active.length, when)}\n${lines(active)}`;
    }
    if (cancelled.length) {
      text += `\n${m.cancelledApart(cancelled.length)}\n${lines(cancelled)}`;
    }
    if (r.truncated) {
      text += `\n${m.truncated}`;
    }
    return { text };
  }

  private planFreeSlots(u: Understanding, today: string, results: Results, m: Catalogue): Plan {
    if (!u.professional) {
      const info = results.get('clinic_info');
      if (!info) {
        return { call: { name: 'clinic_info', args: {} } };
      }
      return { text: `${m.whichProfessional} ${this.professionalNames(info.professionals ?? [])}` };
    }
    const date = u.dateFrom ?? today;
    const r = results.get('find_free_slots');
    if (!r) {
      const args: Record<string, unknown> = { professional: u.professional, date };
      if (u.durationMinutes) {
        args.duration_minutes = u.durationMinutes;
      }
      return { call: { name: 'find_free_slots', args } };
    }
    if (isError(r)) {
      return { text: this.explainError(u, r, m) };
    }
    const label =
      u.dateLabel && !u.dateLabel.includes('/') ? `${u.dateLabel} (${ddmm(date)})` : (u.dateLabel ?? m.onDay(date));
    if (r.slots.length === 0) {
      return { text: m.noFreeSlots(r.professional.full_name, label) };
    }
    return { text: m.freeSlots(r.professional.full_name, label, r.slots.map((s) => s.start).join(', ')) };
  }

  private planBook(u: Understanding, results: Results, m: Catalogue): Plan {
    const missing = [
      !u.patientQuery && m.missing.patient,
      !u.professional && m.missing.professional,
      !u.dateFrom && m.missing.date,
      !u.time && m.missing.time,
    ].filter((x): x is string => typeof x === 'string');
    if (missing.length) {
      return { text: m.needForBooking(missing) };
    }
    const found = this.findPatient(u, results, m);
    if (!('patient' in found)) {
      return found;
    }
    const r = results.get('book_appointment');
    if (!r) {
      const args: Record<string, unknown> = {
        patient_id: found.patient.id,
        professional: u.professional,
        date: u.dateFrom,
        time: u.time,
      };
      if (u.procedure) {
        args.procedure = u.procedure;
      }
      if (u.durationMinutes) {
        args.duration_minutes = u.durationMinutes;
      }
      return { call: { name: 'book_appointment', args } };
    }
    return { text: this.answerProposal(r, m, u) };
  }

  /** Finds the one open appointment of the named patient a cancel or reschedule is about. */
  private pickAppointment(
    u: Understanding,
    today: string,
    results: Results,
    m: Catalogue,
    verb: string,
    none: (name: string) => string,
  ): Plan | { appointment: AppointmentView } {
    const found = this.findPatient(u, results, m);
    if (!('patient' in found)) {
      return found;
    }
    const r = results.get('list_appointments');
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
    if (isError(r)) {
      return { text: this.explainError(u, r, m) };
    }
    const open = r.appointments.filter(
      (a) => (a.status === 'scheduled' || a.status === 'confirmed') && (!u.time || a.start === u.time),
    );
    const [appointment] = open;
    if (appointment === undefined) {
      return { text: none(found.patient.full_name) };
    }
    if (open.length > 1) {
      return { text: `${m.whichAppointment(verb)}\n${open.map((a) => this.apptLine(m, a, true, true)).join('\n')}` };
    }
    return { appointment };
  }

  private planCancel(u: Understanding, today: string, results: Results, m: Catalogue): Plan {
    const picked = this.pickAppointment(u, today, results, m, m.verbCancel, m.noneToCancel);
    if (!('appointment' in picked)) {
      return picked;
    }
    const c = results.get('cancel_appointment');
    if (!c) {
      return { call: { name: 'cancel_appointment', args: { appointment_id: picked.appointment.id } } };
    }
    return { text: this.answerProposal(c, m, u) };
  }

  private planReschedule(u: Understanding, today: string, results: Results, m: Catalogue): Plan {
    if (!u.target?.date && !u.target?.time) {
      if (!u.patientQuery) {
        return { text: `${m.askPatient} ${m.rescheduleNeeds}` };
      }
      return { text: m.rescheduleNeeds };
    }
    const picked = this.pickAppointment(u, today, results, m, m.verbReschedule, m.noneToReschedule);
    if (!('appointment' in picked)) {
      return picked;
    }
    const a = picked.appointment;
    const r = results.get('reschedule_appointment');
    if (!r) {
      return {
        call: {
          name: 'reschedule_appointment',
          args: { appointment_id: a.id, date: u.target.date ?? a.date, time: u.target.time ?? a.start },
        },
      };
    }
    return { text: this.answerProposal(r, m, u) };
  }

  /** Step 1's answer: the server's summary and the question, or why no proposal was made. */
  private answerProposal(r: ToolOutput<'book_appointment'>, m: Catalogue, u?: Understanding): string {
    if ('status' in r && r.status === 'confirmation_required') {
      return m.confirmQuestion(r.summary);
    }
    if (isError(r)) {
      return u ? this.explainError(u, r, m) : m.appointmentGone;
    }
    return this.answerWrite(r, m);
  }

  private answerWrite(r: ToolOutput<'book_appointment'>, m: Catalogue): string {
    if (isError(r)) {
      return r.error === 'in_the_past' ? m.inThePast : m.appointmentGone;
    }
    switch (r.status) {
      case 'booked':
        return m.booked(r.appointment);
      case 'cancelled':
        return m.cancelled(r.appointment);
      case 'rescheduled':
        return m.rescheduled(r.appointment);
      case 'conflict':
        return m.conflict;
      case 'already_cancelled':
        return m.alreadyCancelled;
      case 'not_cancellable':
        return m.notCancellable;
      case 'not_reschedulable':
        return m.notReschedulable;
      case 'refused':
        return m.refused[r.reason];
      case 'confirmation_required':
        return m.confirmQuestion(r.summary);
      default:
        return m.appointmentGone;
    }
  }

  private explainError(u: Understanding, r: { error: string; professionals?: string[] }, m: Catalogue): string {
    const list = (r.professionals ?? []).join(', ');
    if (r.error === 'professional_not_found') {
      return u.professional === SELF_PROFESSIONAL
        ? m.notLinked(list)
        : m.unknownProfessional(u.professional ?? '', list);
    }
    if (r.error === 'in_the_past') {
      return m.inThePast;
    }
    if (r.error === 'patient_not_found') {
      return m.patientGone;
    }
    return m.appointmentGone;
  }

  private apptLine(m: Catalogue, a: AppointmentView, withDate: boolean, withProfessional = false): string {
    return `- ${withDate ? `${ddmm(a.date)} ` : ''}${a.start}–${a.end} · ${a.patient_name} · ${a.procedure}${withProfessional ? ` · ${a.professional_name}` : ''} (${m.status(a.status)})`;
  }

  private professionalNames(list: { full_name: string; specialty: string | null }[]): string {
    return list.map((p) => `${p.full_name}${p.specialty ? ` (${p.specialty})` : ''}`).join(', ');
  }

  private answerClinic(u: Understanding, r: ToolOutput<'clinic_info'>, m: Catalogue): string {
    if (!('name' in r)) {
      return m.help;
    }
    const topics = u.clinicTopics?.length
      ? u.clinicTopics
      : (['hours', 'services', 'professionals', 'contact'] as const);
    const lines = [r.name];
    if (topics.includes('hours')) {
      lines.push(`${m.hours}: ${r.opening_hours.map((h) => `${m.days(h.days)} ${h.open}–${h.close}`).join('; ')}.`);
    }
    if (topics.includes('services')) {
      lines.push(
        `${m.services}: ${r.procedures.map((p) => `${p.name} (${p.duration_minutes} ${m.minutes})`).join(', ')}.`,
      );
    }
    if (topics.includes('professionals')) {
      lines.push(`${m.professionals}: ${this.professionalNames(r.professionals)}.`);
    }
    if (topics.includes('contact') && (r.address || r.phone)) {
      lines.push(`${m.address}: ${[r.address, r.phone].filter(Boolean).join(' · ')}.`);
    }
    return lines.join('\n');
  }
}

export type { Language };

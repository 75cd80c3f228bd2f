import { type AgentCallerClaims, APPOINTMENT_STATUSES } from '@neonpro/contracts';
import { editDistance, foldWords } from '@neonpro/text';
import { tool } from '@langchain/core/tools';
import type { StructuredToolInterface } from '@langchain/core/tools';
import { z } from 'zod';
import { type ActionProposal, idempotencyKey, isExplicitConfirmation, makeProposal } from './action-proposal.js';
import type { ClinicDataPort } from './clinic-data.port.js';
import type { Appointment, ClinicInfo, Professional } from './clinic-data.schema.js';
import { addDays, addMinutes, DEFAULT_TIMEZONE, localDate, localTime, zonedIso } from './clinic-time.js';
import { ToolCache } from './tool-cache.js';

export const TOOL_NAMES = [
  'search_patients',
  'get_patient_summary',
  'list_appointments',
  'find_free_slots',
  'book_appointment',
  'cancel_appointment',
  'clinic_info',
] as const;
export type ToolName = (typeof TOOL_NAMES)[number];

/** Per-run state the tools share: who is asking, in which conversation, and what was proposed. */
export interface ToolRunContext {
  caller: AgentCallerClaims;
  sessionId: string;
  /** The current user message: the only place an explicit confirmation can come from. */
  userMessage: string;
  /** The proposal the previous assistant turn asked the user to confirm, if any. */
  pendingProposal?: ActionProposal;
  /** A proposal made during this run; stored with the final answer. */
  newProposal?: ActionProposal;
  /** Patient names seen in tool results, so the privacy layer can mask them. */
  readonly patientNames: Set<string>;
}

export function newToolRunContext(
  init: Omit<ToolRunContext, 'patientNames' | 'newProposal'> & { pendingProposal?: ActionProposal },
): ToolRunContext {
  return { ...init, patientNames: new Set() };
}

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'YYYY-MM-DD');
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:mm');

/** A professional's name folded for matching, without titles ("Dra. Lima" → "lima"). */
function foldName(s: string): string {
  return foldWords(s)
    .replace(/\b(dra?|doutora?|doctor|prof)\b/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Tool argument naming the caller's own professional record (professionals.user_id = caller). */
export const SELF_PROFESSIONAL = 'me';

/** Finds a professional by id, or by (part of) the name, tolerating accents and one typo per word. */
export function resolveProfessional(
  list: readonly Professional[],
  ref: string,
  callerUserId?: string,
): Professional | undefined {
  if (ref === SELF_PROFESSIONAL) {
    return callerUserId ? list.find((p) => p.user_id === callerUserId) : undefined;
  }
  const byId = list.find((p) => p.id === ref);
  if (byId) {
    return byId;
  }
  const words = foldName(ref).split(' ').filter(Boolean);
  if (words.length === 0) {
    return undefined;
  }
  const score = (p: Professional): number => {
    const names = foldName(p.full_name).split(' ');
    let total = 0;
    for (const w of words) {
      const best = Math.min(
        ...names.map((n) => (n === w ? 0 : n.startsWith(w) && w.length >= 3 ? 0.5 : editDistance(n, w))),
      );
      if (best > (w.length >= 5 ? 2 : 1)) {
        return Infinity;
      }
      total += best;
    }
    return total;
  };
  const ranked = list.map((p) => ({ p, s: score(p) })).filter((x) => Number.isFinite(x.s));
  ranked.sort((a, b) => a.s - b.s);
  if (ranked.length === 0) {
    return undefined;
  }
  if (ranked.length > 1 && ranked[0].s === ranked[1].s) {
    return undefined;
  }
  return ranked[0].p;
}

export interface ToolboxOptions {
  cache: ToolCache;
  /** Used when the clinic does not say. */
  defaultTimezone?: string;
  now?: () => Date;
}

/**
 * The clinic tools. Each run gets its own tool instances bound to its {@link ToolRunContext};
 * all data access goes through the {@link ClinicDataPort} as the caller.
 */
export class ClinicToolbox {
  private readonly now: () => Date;

  constructor(
    private readonly port: ClinicDataPort,
    private readonly options: ToolboxOptions,
  ) {
    this.now = options.now ?? (() => new Date());
  }

  /** Clinic facts (cached per clinic: no personal data). */
  clinicInfo(caller: AgentCallerClaims): Promise<ClinicInfo> {
    return this.options.cache.getOrLoad(ToolCache.key(caller.clinic_id, caller.role, 'clinic_info', {}), () =>
      this.port.clinicInfo(caller),
    );
  }

  async timezone(caller: AgentCallerClaims): Promise<string> {
    return (await this.clinicInfo(caller)).timezone || this.options.defaultTimezone || DEFAULT_TIMEZONE;
  }

  tools(ctx: ToolRunContext): StructuredToolInterface[] {
    const { caller } = ctx;
    const port = this.port;
    const cache = this.options.cache;
    const present = async (a: Appointment) => {
      const tz = await this.timezone(caller);
      ctx.patientNames.add(a.patient_name);
      const start = new Date(a.starts_at);
      return {
        id: a.id,
        patient_id: a.patient_id,
        patient_name: a.patient_name,
        professional_id: a.professional_id,
        professional_name: a.professional_name,
        date: localDate(start, tz),
        start: localTime(start, tz),
        end: localTime(new Date(a.ends_at), tz),
        procedure: a.procedure,
        status: a.status,
      };
    };
    const professional = async (ref: string) => {
      const info = await this.clinicInfo(caller);
      return { info, found: resolveProfessional(info.professionals, ref, caller.sub) };
    };
    const notFoundProfessional = (info: ClinicInfo) => ({
      error: 'professional_not_found',
      professionals: info.professionals.map((p) => p.full_name),
    });
    const json = (v: unknown) => JSON.stringify(v);

    return [
      tool(
        async ({ query, limit }) => {
          const patients = await port.searchPatients(caller, { query, limit: limit ?? 10 });
          for (const p of patients) {
            ctx.patientNames.add(p.full_name);
          }
          return json({ patients });
        },
        {
          name: 'search_patients',
          description:
            'Busca pacientes da clínica por nome (sem acentos ou maiúsculas importarem) ou CPF (com ou sem pontuação). Search patients by name or CPF.',
          schema: z.object({
            query: z.string().min(2).max(100).describe('Nome (ou parte) ou CPF do paciente'),
            limit: z.number().int().min(1).max(20).optional(),
          }),
        },
      ),
      tool(
        async ({ patient_id }) => {
          const summary = await port.getPatientSummary(caller, patient_id);
          if (!summary) {
            return json({ found: false });
          }
          ctx.patientNames.add(summary.patient.full_name);
          return json({
            found: true,
            patient: summary.patient,
            upcoming: await Promise.all(summary.upcoming.map(present)),
            recent: await Promise.all(summary.recent.map(present)),
          });
        },
        {
          name: 'get_patient_summary',
          description: 'Resumo de um paciente: dados de contato, próximas consultas e consultas recentes.',
          schema: z.object({ patient_id: z.guid() }),
        },
      ),
      tool(
        async (args) => {
          const tz = await this.timezone(caller);
          const to = args.date_to ?? args.date_from;
          let professionalId: string | undefined;
          let professionalName: string | undefined;
          if (args.professional) {
            const r = await professional(args.professional);
            if (!r.found) {
              return json(notFoundProfessional(r.info));
            }
            professionalId = r.found.id;
            professionalName = r.found.full_name;
          }
          const appointments = await port.listAppointments(caller, {
            from: zonedIso(args.date_from, '00:00', tz),
            to: zonedIso(addDays(to, 1), '00:00', tz),
            patientId: args.patient_id,
            professionalId,
            status: args.status,
            limit: args.limit ?? 50,
          });
          return json({
            date_from: args.date_from,
            date_to: to,
            professional: professionalName,
            appointments: await Promise.all(appointments.map(present)),
          });
        },
        {
          name: 'list_appointments',
          description:
            'Lista consultas entre duas datas (inclusive, no fuso da clínica), opcionalmente de um paciente, de um profissional (id ou nome, ex. "Dra. Lima") e por status.',
          schema: z.object({
            date_from: isoDate,
            date_to: isoDate.optional(),
            patient_id: z.guid().optional(),
            professional: z
              .string()
              .min(1)
              .max(100)
              .optional()
              .describe(`id ou nome do profissional; "${SELF_PROFESSIONAL}" para a agenda do próprio usuário`),
            status: z.enum(APPOINTMENT_STATUSES).optional(),
            limit: z.number().int().min(1).max(200).optional(),
          }),
        },
      ),
      tool(
        async ({ professional: ref, date, duration_minutes }) => {
          const r = await professional(ref);
          if (!r.found) {
            return json(notFoundProfessional(r.info));
          }
          const found = r.found;
          const duration = duration_minutes ?? 30;
          const tz = await this.timezone(caller);
          const slots = await cache.getOrLoad(
            ToolCache.key(caller.clinic_id, caller.role, 'find_free_slots', { id: found.id, date, duration }),
            () => port.findFreeSlots(caller, { professionalId: found.id, date, durationMinutes: duration }),
          );
          return json({
            professional: { id: found.id, full_name: found.full_name },
            date,
            duration_minutes: duration,
            slots: slots.map((s) => ({
              start: localTime(new Date(s.starts_at), tz),
              end: localTime(new Date(s.ends_at), tz),
            })),
          });
        },
        {
          name: 'find_free_slots',
          description: 'Horários livres de um profissional (id ou nome) numa data.',
          schema: z.object({
            professional: z.string().min(1).max(100),
            date: isoDate,
            duration_minutes: z.number().int().min(10).max(480).optional(),
          }),
        },
      ),
      tool(
        async (args) => {
          if (args.proposal_id) {
            const refusal = this.checkConfirmation(ctx, 'book', args.proposal_id, args.confirmed);
            if (refusal) {
              return json(refusal);
            }
            const p = ctx.pendingProposal as Extract<ActionProposal, { action: 'book' }>;
            const result = await port.bookAppointment(caller, {
              patientId: p.patient_id,
              professionalId: p.professional_id,
              startsAt: p.starts_at,
              endsAt: p.ends_at,
              procedure: p.procedure,
              idempotencyKey: idempotencyKey(ctx.sessionId, p),
            });
            cache.invalidateClinic(caller.clinic_id);
            if (result.status === 'booked') {
              return json({ status: 'booked', appointment: await present(result.appointment) });
            }
            return json({ status: 'conflict', conflicting: await Promise.all(result.conflicting.map(present)) });
          }
          if (!args.patient_id || !args.professional || !args.date || !args.time) {
            return json({ error: 'missing_fields', required: ['patient_id', 'professional', 'date', 'time'] });
          }
          const summary = await port.getPatientSummary(caller, args.patient_id);
          if (!summary) {
            return json({ error: 'patient_not_found' });
          }
          ctx.patientNames.add(summary.patient.full_name);
          const r = await professional(args.professional);
          if (!r.found) {
            return json(notFoundProfessional(r.info));
          }
          const tz = await this.timezone(caller);
          const startsAt = zonedIso(args.date, args.time, tz);
          if (new Date(startsAt).getTime() < this.now().getTime()) {
            return json({ error: 'in_the_past' });
          }
          const proposal = makeProposal({
            action: 'book',
            patient_id: summary.patient.id,
            patient_name: summary.patient.full_name,
            professional_id: r.found.id,
            professional_name: r.found.full_name,
            starts_at: startsAt,
            ends_at: addMinutes(startsAt, args.duration_minutes ?? 30, tz),
            procedure: args.procedure ?? 'Consulta',
          });
          ctx.newProposal = proposal;
          return json({
            status: 'confirmation_required',
            proposal_id: proposal.id,
            summary: {
              patient_name: proposal.patient_name,
              professional_name: proposal.professional_name,
              date: args.date,
              start: args.time,
              end: localTime(new Date(proposal.ends_at), tz),
              procedure: proposal.procedure,
            },
            instruction:
              'Nada foi agendado. Peça ao usuário que confirme explicitamente; só depois da resposta dele chame book_appointment com proposal_id e confirmed=true.',
          });
        },
        {
          name: 'book_appointment',
          description:
            'Agenda uma consulta em duas etapas. 1) Com patient_id, professional, date, time (e procedure, duration_minutes): cria uma proposta e NÃO agenda. 2) Só depois que o usuário confirmar explicitamente numa nova mensagem: chame com proposal_id e confirmed=true.',
          schema: z.object({
            patient_id: z.guid().optional(),
            professional: z.string().min(1).max(100).optional(),
            date: isoDate.optional(),
            time: hhmm.optional(),
            duration_minutes: z.number().int().min(10).max(480).optional(),
            procedure: z.string().min(1).max(120).optional(),
            proposal_id: z.string().max(40).optional(),
            confirmed: z.boolean().optional(),
          }),
        },
      ),
      tool(
        async (args) => {
          if (args.proposal_id) {
            const refusal = this.checkConfirmation(ctx, 'cancel', args.proposal_id, args.confirmed);
            if (refusal) {
              return json(refusal);
            }
            const p = ctx.pendingProposal as Extract<ActionProposal, { action: 'cancel' }>;
            const result = await port.cancelAppointment(caller, {
              appointmentId: p.appointment_id,
              idempotencyKey: idempotencyKey(ctx.sessionId, p),
            });
            cache.invalidateClinic(caller.clinic_id);
            if (result.status === 'not_found') {
              return json(result);
            }
            return json({ status: result.status, appointment: await present(result.appointment) });
          }
          if (!args.appointment_id) {
            return json({ error: 'missing_fields', required: ['appointment_id'] });
          }
          const appointment = await port.getAppointment(caller, args.appointment_id);
          if (!appointment) {
            return json({ error: 'appointment_not_found' });
          }
          const shown = await present(appointment);
          if (appointment.status === 'cancelled') {
            return json({ status: 'already_cancelled', appointment: shown });
          }
          const proposal = makeProposal({
            action: 'cancel',
            appointment_id: appointment.id,
            patient_name: appointment.patient_name,
            professional_name: appointment.professional_name,
            starts_at: appointment.starts_at,
            procedure: appointment.procedure,
          });
          ctx.newProposal = proposal;
          return json({
            status: 'confirmation_required',
            proposal_id: proposal.id,
            summary: shown,
            instruction:
              'Nada foi cancelado. Peça ao usuário que confirme explicitamente; só depois da resposta dele chame cancel_appointment com proposal_id e confirmed=true.',
          });
        },
        {
          name: 'cancel_appointment',
          description:
            'Cancela uma consulta em duas etapas. 1) Com appointment_id: cria uma proposta e NÃO cancela. 2) Só depois que o usuário confirmar explicitamente numa nova mensagem: chame com proposal_id e confirmed=true.',
          schema: z.object({
            appointment_id: z.guid().optional(),
            proposal_id: z.string().max(40).optional(),
            confirmed: z.boolean().optional(),
          }),
        },
      ),
      tool(
        async () => {
          const info = await this.clinicInfo(caller);
          // Login ids are for resolving "me" here; the model needs none of them.
          const professionals = info.professionals.map(({ id, full_name, specialty }) => ({
            id,
            full_name,
            specialty,
          }));
          return json({ ...info, professionals, today: localDate(this.now(), info.timezone || DEFAULT_TIMEZONE) });
        },
        {
          name: 'clinic_info',
          description: 'Nome da clínica, fuso horário, data de hoje e profissionais (id, nome, especialidade).',
          schema: z.object({}),
        },
      ),
    ];
  }

  /**
   * A write runs only for the proposal the previous assistant turn asked about, and only when
   * the user's current message is an explicit yes — whatever the model claims in `confirmed`.
   */
  private checkConfirmation(
    ctx: ToolRunContext,
    action: ActionProposal['action'],
    proposalId: string,
    confirmed: boolean | undefined,
  ): Record<string, string> | undefined {
    const pending = ctx.pendingProposal;
    if (!pending || pending.id !== proposalId || pending.action !== action) {
      return { status: 'refused', reason: 'unknown_proposal' };
    }
    if (confirmed !== true || !isExplicitConfirmation(ctx.userMessage)) {
      return { status: 'refused', reason: 'confirmation_required' };
    }
    return undefined;
  }
}

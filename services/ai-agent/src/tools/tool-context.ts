import type { AgentCallerClaims } from '@neonpro/contracts';
import type { Language } from '../models/language.js';
import type { ActionProposal } from './action-proposal.js';
import type { ClinicDataPort } from './clinic-data.port.js';
import type { Appointment, ClinicInfo, Professional } from './clinic-data.schema.js';
import { localDate, localTime } from './clinic-time.js';
import type { ToolCache } from './tool-cache.js';
import type { AppointmentView } from './tool-output.schema.js';

/** Per-run state the tools share: who is asking, in which conversation, and what was proposed. */
export interface ToolRunContext {
  caller: AgentCallerClaims;
  sessionId: string;
  /** The current user message: a bare yes in it confirms the pending proposal. */
  userMessage: string;
  /** Language of the user's message: proposal summaries are rendered in it. */
  lang: Language;
  /** `confirm.proposal_id` of the request: an explicit confirmation (the card's button). */
  confirmId?: string;
  /** The proposal the previous assistant turn asked the user to confirm, if any. */
  pendingProposal?: ActionProposal;
  /** A proposal made during this run; stored with the final answer. */
  newProposal?: ActionProposal;
  /** Patient names seen in tool results, so the privacy layer can mask them. */
  readonly patientNames: Set<string>;
}

export function newToolRunContext(
  init: Omit<ToolRunContext, 'patientNames' | 'newProposal' | 'lang'> & { lang?: Language },
): ToolRunContext {
  return { lang: 'pt', ...init, patientNames: new Set() };
}

/** What every tool needs beyond its arguments: data access as the caller, the clock, helpers. */
export interface ToolDeps {
  port: ClinicDataPort;
  cache: ToolCache;
  now: () => Date;
  ctx: ToolRunContext;
  clinicInfo: () => Promise<ClinicInfo>;
  timezone: () => Promise<string>;
  /** An appointment as the model sees it (local date and times); records the patient name for masking. */
  present: (a: Appointment) => Promise<AppointmentView>;
  /** The professional named (id, "me" or a partial, typo-tolerant name), or the clinic's list when not found. */
  professional: (
    ref: string,
  ) => Promise<{ found: Professional } | { notFound: { error: 'professional_not_found'; professionals: string[] } }>;
}

export const json = (v: unknown): string => JSON.stringify(v);

export function presentAppointment(a: Appointment, tz: string): AppointmentView {
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
}

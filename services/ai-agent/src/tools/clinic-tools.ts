import type { AgentCallerClaims } from '@neonpro/contracts';
import type { StructuredToolInterface } from '@langchain/core/tools';
import { bookAppointmentTool } from './book-appointment.tool.js';
import { cancelAppointmentTool } from './cancel-appointment.tool.js';
import type { ClinicDataPort } from './clinic-data.port.js';
import type { ClinicInfo, Professional } from './clinic-data.schema.js';
import { clinicInfoTool } from './clinic-info.tool.js';
import { DEFAULT_TIMEZONE } from './clinic-time.js';
import { findFreeSlotsTool } from './find-free-slots.tool.js';
import { getPatientSummaryTool } from './get-patient-summary.tool.js';
import { listAppointmentsTool } from './list-appointments.tool.js';
import { rescheduleAppointmentTool } from './reschedule-appointment.tool.js';
import { searchPatientsTool } from './search-patients.tool.js';
import { SELF_PROFESSIONAL } from './tool-args.js';
import { editDistance, foldWords } from '@neonpro/text';
import { ToolCache } from './tool-cache.js';
import { presentAppointment, type ToolDeps, type ToolRunContext } from './tool-context.js';

export { SELF_PROFESSIONAL } from './tool-args.js';
export { newToolRunContext, type ToolRunContext } from './tool-context.js';
export { TOOL_NAMES, type ToolName } from './tool-output.schema.js';

/** A professional's name folded for matching, without titles ("Dra. Lima" → "lima"). */
function foldName(s: string): string {
  return foldWords(s)
    .replace(/\b(dra?|doutora?|doctor|prof|enf)\b/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

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
  const [best, runnerUp] = ranked;
  if (best === undefined) {
    return undefined;
  }
  if (runnerUp !== undefined && best.s === runnerUp.s) {
    return undefined;
  }
  return best.p;
}

export interface ToolboxOptions {
  cache: ToolCache;
  /** Used when the clinic does not say. */
  defaultTimezone?: string;
  now?: () => Date;
}

/**
 * The clinic tools (one file each). Each run gets its own tool instances bound to its
 * {@link ToolRunContext}; all data access goes through the {@link ClinicDataPort} as the caller.
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
    const deps: ToolDeps = {
      port: this.port,
      cache: this.options.cache,
      now: this.now,
      ctx,
      clinicInfo: () => this.clinicInfo(caller),
      timezone: () => this.timezone(caller),
      present: async (a) => {
        ctx.patientNames.add(a.patient_name);
        return presentAppointment(a, await this.timezone(caller));
      },
      professional: async (ref) => {
        const info = await this.clinicInfo(caller);
        const found = resolveProfessional(info.professionals, ref, caller.sub);
        if (found) {
          return { found };
        }
        return {
          notFound: { error: 'professional_not_found', professionals: info.professionals.map((p) => p.full_name) },
        };
      },
    };
    return [
      searchPatientsTool(deps),
      getPatientSummaryTool(deps),
      listAppointmentsTool(deps),
      findFreeSlotsTool(deps),
      bookAppointmentTool(deps),
      cancelAppointmentTool(deps),
      rescheduleAppointmentTool(deps),
      clinicInfoTool(deps),
    ];
  }
}

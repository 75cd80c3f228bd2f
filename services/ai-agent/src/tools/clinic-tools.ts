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

  /** The clinic's time zone from its facts; the configured default when it has none. */
  timezoneOf(info: ClinicInfo): string {
    return info.timezone || this.options.defaultTimezone || DEFAULT_TIMEZONE;
  }

  /**
   * The tools of one run. The run reads the clinic's facts once: `info` when the caller has read
   * them already (the turn's context does), else on the first tool that needs them. Without that,
   * every appointment a tool shows asked for the time zone again, and with the cache off
   * (AGENT_TOOL_CACHE_TTL_MS=0) each ask was a transaction of its own.
   */
  tools(ctx: ToolRunContext, info?: ClinicInfo): StructuredToolInterface[] {
    const { caller } = ctx;
    let facts = info ? Promise.resolve(info) : undefined;
    const clinicInfo = (): Promise<ClinicInfo> =>
      (facts ??= this.clinicInfo(caller).catch((err: unknown) => {
        // A failed read is not the run's answer for good: the next tool call reads again.
        facts = undefined;
        throw err;
      }));
    const timezone = async () => this.timezoneOf(await clinicInfo());
    const deps: ToolDeps = {
      port: this.port,
      cache: this.options.cache,
      now: this.now,
      ctx,
      clinicInfo,
      timezone,
      present: async (a) => {
        ctx.patientNames.add(a.patient_name);
        return presentAppointment(a, await timezone());
      },
      professional: async (ref) => {
        const info = await clinicInfo();
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

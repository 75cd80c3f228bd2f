import { tool } from '@langchain/core/tools';
import { z } from 'zod';
import { localTime } from './clinic-time.js';
import { isoDate } from './tool-args.js';
import { json, type ToolDeps } from './tool-context.js';
import { freeSlotsOutputSchema } from './tool-output.schema.js';
import { ToolCache } from './tool-cache.js';

/** The tool's arguments: built once per process (a zod schema costs more to build than to run). */
const FIND_FREE_SLOTS_ARGS = z.object({
  professional: z.string().min(1).max(100),
  date: isoDate,
  duration_minutes: z.number().int().min(10).max(480).optional(),
});

export function findFreeSlotsTool(deps: ToolDeps) {
  return tool(
    async ({ professional: ref, date, duration_minutes }) => {
      const r = await deps.professional(ref);
      if ('notFound' in r) {
        return json(r.notFound);
      }
      const found = r.found;
      const duration = duration_minutes ?? 30;
      const tz = await deps.timezone();
      const { caller } = deps.ctx;
      const slots = await deps.cache.getOrLoad(
        ToolCache.key(caller.clinic_id, caller.role, 'find_free_slots', { id: found.id, date, duration }),
        () => deps.port.findFreeSlots(caller, { professionalId: found.id, date, durationMinutes: duration }),
      );
      return json(
        freeSlotsOutputSchema.parse({
          professional: { id: found.id, full_name: found.full_name },
          date,
          duration_minutes: duration,
          slots: slots.map((s) => ({
            start: localTime(new Date(s.starts_at), tz),
            end: localTime(new Date(s.ends_at), tz),
          })),
        }),
      );
    },
    {
      name: 'find_free_slots',
      description: 'Free slots of a professional (id or name) on a local date. Horários livres.',
      schema: FIND_FREE_SLOTS_ARGS,
    },
  );
}

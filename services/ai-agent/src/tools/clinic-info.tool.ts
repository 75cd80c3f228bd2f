import { tool } from '@langchain/core/tools';
import { z } from 'zod';
import { localDate } from './clinic-time.js';
import { json, type ToolDeps } from './tool-context.js';
import { clinicInfoOutputSchema } from './tool-output.schema.js';

/** `{"mon-fri": "08:00-18:00"}` as a list the model (and the local one) can read. */
export function openingHoursView(
  hours: Record<string, string> | undefined,
): { days: string; open: string; close: string }[] {
  return Object.entries(hours ?? {}).flatMap(([days, range]) => {
    const [, open, close] = /^(\d{2}:\d{2})\s*-\s*(\d{2}:\d{2})$/.exec(range.trim()) ?? [];
    return open !== undefined && close !== undefined ? [{ days, open, close }] : [];
  });
}

/** The tool's arguments: built once per process (a zod schema costs more to build than to run). */
const CLINIC_INFO_ARGS = z.object({});

export function clinicInfoTool(deps: ToolDeps) {
  return tool(
    async () => {
      const info = await deps.clinicInfo();
      const tz = await deps.timezone();
      return json(
        clinicInfoOutputSchema.parse({
          name: info.name,
          timezone: tz,
          today: localDate(deps.now(), tz),
          phone: info.phone ?? null,
          address: info.address ?? null,
          opening_hours: openingHoursView(info.opening_hours),
          procedures: info.procedures ?? [],
          // Login ids are for resolving "me" here; the model needs none of them.
          professionals: info.professionals.map(({ id, full_name, specialty }) => ({ id, full_name, specialty })),
        }),
      );
    },
    {
      name: 'clinic_info',
      description:
        "The clinic's name, today's date, opening hours, address and phone, services and procedures with their usual duration, and professionals (id, name, specialty). Informações da clínica.",
      schema: CLINIC_INFO_ARGS,
    },
  );
}

import { tool } from '@langchain/core/tools';
import { z } from 'zod';
import { APPOINTMENT_STATUSES } from '@neonpro/contracts';
import { addDays, zonedIso } from './clinic-time.js';
import { isoDate, SELF_PROFESSIONAL } from './tool-args.js';
import { json, type ToolDeps } from './tool-context.js';
import { listAppointmentsOutputSchema } from './tool-output.schema.js';

/** Longest range one call may list (a year): wider questions are narrowed by the model. */
const MAX_RANGE_DAYS = 366;

/** The tool's arguments: built once per process (a zod schema costs more to build than to run). */
const LIST_APPOINTMENTS_ARGS = z.object({
  date_from: isoDate,
  date_to: isoDate.optional(),
  patient_id: z.guid().optional(),
  professional: z
    .string()
    .min(1)
    .max(100)
    .optional()
    .describe(`professional id or name; "${SELF_PROFESSIONAL}" for the caller's own schedule`),
  status: z.enum(APPOINTMENT_STATUSES).optional(),
  limit: z.number().int().min(1).max(200).optional(),
});

export function listAppointmentsTool(deps: ToolDeps) {
  return tool(
    async (args) => {
      const tz = await deps.timezone();
      const to = args.date_to ?? args.date_from;
      if (to < args.date_from || addDays(args.date_from, MAX_RANGE_DAYS) < to) {
        return json(listAppointmentsOutputSchema.parse({ error: 'invalid_range' }));
      }
      let professionalId: string | undefined;
      let professionalName: string | undefined;
      if (args.professional) {
        const r = await deps.professional(args.professional);
        if ('notFound' in r) {
          return json(r.notFound);
        }
        professionalId = r.found.id;
        professionalName = r.found.full_name;
      }
      const limit = args.limit ?? 200;
      const appointments = await deps.port.listAppointments(deps.ctx.caller, {
        from: zonedIso(args.date_from, '00:00', tz),
        to: zonedIso(addDays(to, 1), '00:00', tz),
        patientId: args.patient_id,
        professionalId,
        status: args.status,
        limit: limit + 1,
      });
      return json(
        listAppointmentsOutputSchema.parse({
          date_from: args.date_from,
          date_to: to,
          professional: professionalName,
          appointments: await Promise.all(appointments.slice(0, limit).map(deps.present)),
          truncated: appointments.length > limit,
        }),
      );
    },
    {
      name: 'list_appointments',
      description:
        'Appointments between two local dates (inclusive, clinic time zone), past or future, optionally of one patient, one professional (id or name, e.g. "Dra. Lima"; "me" for the caller\'s own) and one status. Lista consultas de qualquer período.',
      schema: LIST_APPOINTMENTS_ARGS,
    },
  );
}

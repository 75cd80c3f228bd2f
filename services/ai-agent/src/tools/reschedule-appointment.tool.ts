import { tool } from '@langchain/core/tools';
import { z } from 'zod';
import { zonedIso } from './clinic-time.js';
import { hhmm, isoDate, proposalIdArg } from './tool-args.js';
import { json, type ToolDeps } from './tool-context.js';
import { writeOutputSchema } from './tool-output.schema.js';
import { propose, writeConfirmed } from './write-support.js';

/** The tool's arguments: built once per process (a zod schema costs more to build than to run). */
const RESCHEDULE_APPOINTMENT_ARGS = z.object({
  appointment_id: z.guid().optional(),
  date: isoDate.optional(),
  time: hhmm.optional(),
  proposal_id: proposalIdArg.optional(),
});

export function rescheduleAppointmentTool(deps: ToolDeps) {
  const { caller } = deps.ctx;
  return tool(
    async (args) => {
      if (args.proposal_id) {
        return writeConfirmed(deps, 'reschedule', args.proposal_id, (p, idempotencyKey) =>
          deps.port.rescheduleAppointment(caller, {
            appointmentId: p.appointment_id,
            startsAt: p.starts_at,
            endsAt: p.ends_at,
            idempotencyKey,
          }),
        );
      }
      if (!args.appointment_id || !args.date || !args.time) {
        return json({ error: 'missing_fields', required: ['appointment_id', 'date', 'time'] });
      }
      const appointment = await deps.port.getAppointment(caller, args.appointment_id);
      if (!appointment) {
        return json({ error: 'appointment_not_found' });
      }
      const shown = await deps.present(appointment);
      if (appointment.status !== 'scheduled' && appointment.status !== 'confirmed') {
        return json(writeOutputSchema.parse({ status: 'not_reschedulable', appointment: shown }));
      }
      const tz = await deps.timezone();
      const startsAt = zonedIso(args.date, args.time, tz);
      if (new Date(startsAt).getTime() < deps.now().getTime()) {
        return json({ error: 'in_the_past' });
      }
      // Same length as before: rescheduling moves the appointment, it does not change it.
      const length = new Date(appointment.ends_at).getTime() - new Date(appointment.starts_at).getTime();
      const endsAt = new Date(new Date(startsAt).getTime() + length).toISOString();
      return json(
        await propose(deps, {
          action: 'reschedule',
          appointment_id: appointment.id,
          patient_name: appointment.patient_name,
          professional_name: appointment.professional_name,
          procedure: appointment.procedure,
          from_starts_at: appointment.starts_at,
          starts_at: startsAt,
          ends_at: endsAt,
        }),
      );
    },
    {
      name: 'reschedule_appointment',
      description:
        'Moves an appointment to a new date and time (same professional, same length) in two steps. 1) With appointment_id, date, time: creates a proposal and changes NOTHING. 2) Only after the user confirms in a new message: call with proposal_id alone. Remarca uma consulta.',
      schema: RESCHEDULE_APPOINTMENT_ARGS,
    },
  );
}

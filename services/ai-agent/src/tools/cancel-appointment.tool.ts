import { tool } from '@langchain/core/tools';
import { z } from 'zod';
import { proposalIdArg } from './tool-args.js';
import { json, type ToolDeps } from './tool-context.js';
import { writeOutputSchema } from './tool-output.schema.js';
import { propose, writeConfirmed } from './write-support.js';

/** The tool's arguments: built once per process (a zod schema costs more to build than to run). */
const CANCEL_APPOINTMENT_ARGS = z.object({
  appointment_id: z.guid().optional(),
  proposal_id: proposalIdArg.optional(),
});

export function cancelAppointmentTool(deps: ToolDeps) {
  const { caller } = deps.ctx;
  return tool(
    async (args) => {
      if (args.proposal_id) {
        return writeConfirmed(deps, 'cancel', args.proposal_id, (p, idempotencyKey) =>
          deps.port.cancelAppointment(caller, { appointmentId: p.appointment_id, idempotencyKey }),
        );
      }
      if (!args.appointment_id) {
        return json({ error: 'missing_fields', required: ['appointment_id'] });
      }
      const appointment = await deps.port.getAppointment(caller, args.appointment_id);
      if (!appointment) {
        return json({ error: 'appointment_not_found' });
      }
      const shown = await deps.present(appointment);
      if (appointment.status === 'cancelled') {
        return json(writeOutputSchema.parse({ status: 'already_cancelled', appointment: shown }));
      }
      if (appointment.status === 'completed' || appointment.status === 'no_show') {
        return json(writeOutputSchema.parse({ status: 'not_cancellable', appointment: shown }));
      }
      return json(
        await propose(deps, {
          action: 'cancel',
          appointment_id: appointment.id,
          patient_name: appointment.patient_name,
          professional_name: appointment.professional_name,
          starts_at: appointment.starts_at,
          procedure: appointment.procedure,
        }),
      );
    },
    {
      name: 'cancel_appointment',
      description:
        'Cancels an appointment in two steps. 1) With appointment_id: creates a proposal and cancels NOTHING. 2) Only after the user confirms in a new message: call with proposal_id alone.',
      schema: CANCEL_APPOINTMENT_ARGS,
    },
  );
}

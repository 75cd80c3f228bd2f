import { tool } from '@langchain/core/tools';
import { z } from 'zod';
import { addMinutes, zonedIso } from './clinic-time.js';
import { hhmm, isoDate, proposalIdArg } from './tool-args.js';
import { json, type ToolDeps } from './tool-context.js';
import { propose, writeConfirmed } from './write-support.js';

/** The tool's arguments: built once per process (a zod schema costs more to build than to run). */
const BOOK_APPOINTMENT_ARGS = z.object({
  patient_id: z.guid().optional(),
  professional: z.string().min(1).max(100).optional(),
  date: isoDate.optional(),
  time: hhmm.optional(),
  duration_minutes: z.number().int().min(10).max(480).optional(),
  procedure: z.string().min(1).max(120).optional(),
  proposal_id: proposalIdArg.optional(),
});

export function bookAppointmentTool(deps: ToolDeps) {
  const { caller } = deps.ctx;
  return tool(
    async (args) => {
      if (args.proposal_id) {
        return writeConfirmed(deps, 'book', args.proposal_id, (p, idempotencyKey) =>
          deps.port.bookAppointment(caller, {
            patientId: p.patient_id,
            professionalId: p.professional_id,
            startsAt: p.starts_at,
            endsAt: p.ends_at,
            procedure: p.procedure,
            idempotencyKey,
          }),
        );
      }
      if (!args.patient_id || !args.professional || !args.date || !args.time) {
        return json({ error: 'missing_fields', required: ['patient_id', 'professional', 'date', 'time'] });
      }
      const summary = await deps.port.getPatientSummary(caller, args.patient_id);
      if (!summary) {
        return json({ error: 'patient_not_found' });
      }
      deps.ctx.patientNames.add(summary.patient.full_name);
      const r = await deps.professional(args.professional);
      if ('notFound' in r) {
        return json(r.notFound);
      }
      const tz = await deps.timezone();
      const startsAt = zonedIso(args.date, args.time, tz);
      if (new Date(startsAt).getTime() < deps.now().getTime()) {
        return json({ error: 'in_the_past' });
      }
      const info = await deps.clinicInfo();
      const procedure = args.procedure ?? 'Consulta de avaliação';
      const usual = info.procedures?.find((x) => x.name.toLowerCase() === procedure.toLowerCase());
      return json(
        await propose(deps, {
          action: 'book',
          patient_id: summary.patient.id,
          patient_name: summary.patient.full_name,
          professional_id: r.found.id,
          professional_name: r.found.full_name,
          starts_at: startsAt,
          ends_at: addMinutes(startsAt, args.duration_minutes ?? usual?.duration_minutes ?? 30, tz),
          procedure: usual?.name ?? procedure,
        }),
      );
    },
    {
      name: 'book_appointment',
      description:
        'Books an appointment in two steps. 1) With patient_id, professional, date, time (and procedure, duration_minutes): creates a proposal and books NOTHING. 2) Only after the user confirms in a new message: call with proposal_id alone.',
      schema: BOOK_APPOINTMENT_ARGS,
    },
  );
}

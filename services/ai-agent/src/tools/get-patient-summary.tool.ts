import { tool } from '@langchain/core/tools';
import { z } from 'zod';
import { json, type ToolDeps } from './tool-context.js';
import { patientSummaryOutputSchema } from './tool-output.schema.js';

/** The tool's arguments: built once per process (a zod schema costs more to build than to run). */
const GET_PATIENT_SUMMARY_ARGS = z.object({ patient_id: z.guid() });

export function getPatientSummaryTool(deps: ToolDeps) {
  return tool(
    async ({ patient_id }) => {
      const summary = await deps.port.getPatientSummary(deps.ctx.caller, patient_id);
      if (!summary) {
        return json(patientSummaryOutputSchema.parse({ found: false }));
      }
      deps.ctx.patientNames.add(summary.patient.full_name);
      return json(
        patientSummaryOutputSchema.parse({
          found: true,
          patient: summary.patient,
          upcoming: await Promise.all(summary.upcoming.map(deps.present)),
          recent: await Promise.all(summary.recent.map(deps.present)),
        }),
      );
    },
    {
      name: 'get_patient_summary',
      description: "A patient's contact data, upcoming and recent appointments. Resumo de um paciente.",
      schema: GET_PATIENT_SUMMARY_ARGS,
    },
  );
}

import { tool } from '@langchain/core/tools';
import { z } from 'zod';
import { json, type ToolDeps } from './tool-context.js';
import { searchPatientsOutputSchema } from './tool-output.schema.js';

/** The tool's arguments: built once per process (a zod schema costs more to build than to run). */
const SEARCH_PATIENTS_ARGS = z.object({
  query: z.string().min(2).max(100).describe('Name (or part), CPF or phone of the patient'),
  limit: z.number().int().min(1).max(20).optional(),
});

export function searchPatientsTool(deps: ToolDeps) {
  return tool(
    async ({ query, limit }) => {
      const patients = await deps.port.searchPatients(deps.ctx.caller, { query, limit: limit ?? 10 });
      for (const p of patients) {
        deps.ctx.patientNames.add(p.full_name);
      }
      return json(searchPatientsOutputSchema.parse({ patients }));
    },
    {
      name: 'search_patients',
      description:
        'Search the clinic patients by (part of the) name — accents and case do not matter —, by CPF or by phone (digits, punctuation optional). Busca pacientes por nome, CPF ou telefone.',
      schema: SEARCH_PATIENTS_ARGS,
    },
  );
}

import { z } from 'zod';

/**
 * JSON Schema of the variables a deployment may set through plain config (e.g. the Helm chart's
 * `gateway.config`), derived from a service's env schema so the chart can never drift from the
 * code. Variables in `exclude` are set elsewhere (fixed by the chart, secrets, dedicated values).
 */
export function envJsonSchemaProperties(
  schema: z.ZodObject,
  exclude: readonly string[],
): Record<string, Record<string, unknown>> {
  const json = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as {
    properties: Record<string, Record<string, unknown>>;
  };
  const out: Record<string, Record<string, unknown>> = {};
  for (const key of Object.keys(schema.shape).sort()) {
    if (exclude.includes(key)) {
      continue;
    }
    const { default: _default, ...rest } = json.properties[key] ?? {};
    // Transformed values (lists, hop counts) are written as strings in the environment.
    out[key] = Object.keys(rest).length ? rest : { type: 'string' };
  }
  return out;
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentConfigSchema, envJsonSchemaProperties, gatewayConfigSchema } from '@neonpro/config';
import { REPO_ROOT } from '@neonpro/testing';
import { CHART_EXCLUDE } from '../../tools/chart/chart-env.mjs';

interface ValuesSchema {
  properties: Record<'gateway' | 'agent', { properties: { config: { properties: Record<string, unknown> } } }>;
}

/** The chart's `*.config` accepts exactly the services' non-secret variables (npm run chart:sync). */
describe('values.schema.json config blocks follow the env schemas', () => {
  const doc = JSON.parse(readFileSync(join(REPO_ROOT, 'helm/neonpro/values.schema.json'), 'utf8')) as ValuesSchema;

  it.each([
    ['gateway', gatewayConfigSchema, CHART_EXCLUDE.gateway],
    ['agent', agentConfigSchema, CHART_EXCLUDE.agent],
  ] as const)('%s.config', (name, schema, exclude) => {
    const expected = envJsonSchemaProperties(schema, exclude);
    expect(doc.properties[name].properties.config.properties).toEqual(expected);
    // Secrets are never plain config.
    expect(Object.keys(expected)).not.toContain('DATABASE_URL');
    expect(Object.keys(expected).length).toBeGreaterThan(5);
  });
});

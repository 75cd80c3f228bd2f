import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { must } from '@neonpro/testing';
import { CHART, templateEnvNames } from './support/chart.js';
import { helmTemplate } from './support/helm.js';
import { type K8sObject, OVERLAYS, mergeValues, readYaml, renderOverlay } from './support/k8s.js';
import { SERVICE_SCHEMAS, type ServiceName, containerEnv } from './support/policy.js';

/** Variables of a schema that have neither a default nor `.optional()`: deployments must set them. */
function requiredVars(service: ServiceName): string[] {
  const shape = SERVICE_SCHEMAS[service].shape as Record<string, { safeParse(v: unknown): { success: boolean } }>;
  return Object.entries(shape)
    .filter(([, v]) => !v.safeParse(undefined).success)
    .map(([k]) => k);
}

function schemaVars(service: ServiceName): Set<string> {
  return new Set(Object.keys(SERVICE_SCHEMAS[service].shape));
}

/** Issues of known values only (secret values are unknown here), as "VAR: message". */
function valueIssues(service: ServiceName, values: Record<string, string>): string[] {
  const result = SERVICE_SCHEMAS[service].safeParse(values);
  if (result.success) {
    return [];
  }
  return result.error.issues
    .filter((i) => String(i.path[0]) in values)
    .map((i) => `${String(i.path[0])}: ${i.message}`);
}

const SERVICES: ServiceName[] = ['gateway', 'ai-agent'];

describe.each(OVERLAYS)('kustomize overlay %s agrees with the config schemas', (overlay) => {
  const objects: K8sObject[] = renderOverlay(overlay);

  it.each(SERVICES)('%s sets only variables its schema defines, with valid values, and every required one', (svc) => {
    const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === `neonpro-${svc}`)!;
    const { values, secretRefs, unresolved } = containerEnv(deployment, objects);
    expect(unresolved).toEqual([]);
    const set = [...Object.keys(values), ...secretRefs];
    // Sanity: the extraction found the ConfigMap, so an empty list cannot pass by accident.
    expect(set).toContain('NATS_URL');
    expect(set.filter((v) => !schemaVars(svc).has(v))).toEqual([]);
    expect(requiredVars(svc).filter((v) => !set.includes(v))).toEqual([]);
    expect(valueIssues(svc, values)).toEqual([]);
  });
});

describe('helm chart agrees with the config schemas (static: templates and values files)', () => {
  const valuesFiles = ['values.yaml', ...readdirSync(join(CHART, 'examples')).map((f) => join('examples', f))];
  const defaults = readYaml<Record<string, unknown>>('helm', 'neonpro', 'values.yaml');
  const schemaJson = readYaml<{
    properties: Record<string, { properties: { config: { properties: Record<string, unknown> } } }>;
  }>('helm', 'neonpro', 'values.schema.json');

  const chartKey = { gateway: 'gateway', 'ai-agent': 'agent' } as const;

  it.each(SERVICES)('%s: literal template variables exist in the schema', (svc) => {
    const names = templateEnvNames(svc);
    expect(names).toEqual(expect.arrayContaining(['NODE_ENV', 'PORT', 'NATS_URL', 'NATS_SUBJECT_PREFIX']));
    expect(names.filter((v) => !schemaVars(svc).has(v))).toEqual([]);
  });

  it.each(SERVICES)('%s: values.schema.json allows only schema variables under config', (svc) => {
    const allowed = Object.keys(must(schemaJson.properties[chartKey[svc]], chartKey[svc]).properties.config.properties);
    expect(allowed.length).toBeGreaterThan(0);
    expect(allowed.filter((v) => !schemaVars(svc).has(v))).toEqual([]);
  });

  it.each(valuesFiles)(
    '%s: config and extraEnv name schema variables with valid values; required ones are set',
    (file) => {
      const values = mergeValues(defaults, readYaml('helm', 'neonpro', file)) as Record<
        string,
        { config: Record<string, unknown>; extraEnv: { name: string; value?: string }[] }
      >;
      for (const svc of SERVICES) {
        const v = must(values[chartKey[svc]], chartKey[svc]);
        const config = Object.fromEntries(Object.entries(v.config).map(([k, x]) => [k, String(x)]));
        const names = [...templateEnvNames(svc), ...Object.keys(config), ...v.extraEnv.map((e) => e.name)];
        expect([svc, names.filter((n) => !schemaVars(svc).has(n))]).toEqual([svc, []]);
        expect([svc, requiredVars(svc).filter((n) => !names.includes(n))]).toEqual([svc, []]);
        expect([svc, valueIssues(svc, config)]).toEqual([svc, []]);
      }
    },
  );
});

describe('the agreement check itself', () => {
  it('flags an unknown variable and a bad value', () => {
    expect(schemaVars('gateway').has('GATEWAY_PORT')).toBe(false);
    expect(valueIssues('gateway', { NATS_URL: 'http://nats:4222' })).toEqual([expect.stringMatching(/^NATS_URL:/)]);
  });
});

describe('helm chart and kustomize give each service the same env keys', () => {
  // Both with an ingress (kustomize's overlays include it), the chart with its defaults otherwise.
  const chart = helmTemplate(CHART, { set: { 'ingress.enabled': 'true' } });
  const keysOf = (objects: K8sObject[], svc: ServiceName): string[] => {
    const d = objects.find((o) => o.kind === 'Deployment' && o.metadata.labels?.['app.kubernetes.io/name'] === svc)!;
    const { values, secretRefs, unresolved } = containerEnv(d, objects);
    expect(unresolved).toEqual([]);
    return [...Object.keys(values), ...secretRefs].sort();
  };

  it.each(OVERLAYS.flatMap((o) => SERVICES.map((s) => [o, s] as const)))('%s overlay, %s', (overlay, svc) => {
    const kustomize = keysOf(renderOverlay(overlay), svc);
    const fromChart = keysOf(chart, svc);
    expect(fromChart).toContain('NATS_URL');
    expect({
      onlyInChart: fromChart.filter((k) => !kustomize.includes(k)),
      onlyInKustomize: kustomize.filter((k) => !fromChart.includes(k)),
    }).toEqual({
      onlyInChart: [],
      onlyInKustomize: [],
    });
  });
});

// Lives with the agent because it reads the agent's own metrics code (services may import their
// own src; test/deploy may not). The manifests must name the series the code registers.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { parse as parseYaml } from 'yaml';
import { AgentMetrics } from '../src/chat/agent-metrics.service.js';
import { type K8sObject, OVERLAYS, ROOT, renderOverlay } from '../../../test/deploy/support/k8s.js';

/** The queue-depth series as the agent registers it: read from the registry, not a string. */
function queueDepthMetricName(): string {
  const registry = new Registry();
  const metrics = new AgentMetrics(registry);
  const name = registry
    .getMetricsAsArray()
    .map((m) => m.name)
    .find((n) => registry.getSingleMetric(n) === metrics.queueDepth);
  if (!name) throw new Error('AgentMetrics.queueDepth is not registered');
  return name;
}

type Hpa = { spec: { metrics: { type: string; pods?: { metric: { name: string } } }[] } };
type AdapterRule = { seriesQuery: string; name: { matches: string; as: string } };

function podsMetricNames(hpa: Hpa): string[] {
  return hpa.spec.metrics.filter((m) => m.type === 'Pods').map((m) => m.pods!.metric.name);
}

function adapterRules(configYaml: string): AdapterRule[] {
  return (parseYaml(configYaml) as { rules: AdapterRule[] }).rules;
}

const metric = queueDepthMetricName();

describe('agent autoscaling metric', () => {
  it('is a gauge the agent registers', async () => {
    const registry = new Registry();
    new AgentMetrics(registry);
    const text = await registry.metrics();
    expect(text).toContain(`# TYPE ${metric} gauge`);
  });

  it.each(OVERLAYS)('the %s overlay HPA scales the agent on it', (overlay) => {
    const objects: K8sObject[] = renderOverlay(overlay);
    const hpa = objects.find((o) => o.kind === 'HorizontalPodAutoscaler' && o.metadata.name === 'neonpro-ai-agent');
    expect(podsMetricNames(hpa as unknown as Hpa)).toEqual([metric]);
  });

  it('the prometheus-adapter rule of the prometheus component serves it under the same name', () => {
    const objects = renderOverlay('prod');
    const cm = objects.find(
      (o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('neonpro-prometheus-adapter-rules'),
    );
    const rules = adapterRules(cm!.data!['config.yaml']);
    expect(rules).toHaveLength(1);
    expect(rules[0].seriesQuery.startsWith(`${metric}{`)).toBe(true);
    expect(new RegExp(rules[0].name.matches).test(metric)).toBe(true);
    expect(rules[0].name.as).toBe(metric);
  });

  it('the helm chart HPA and adapter rule templates name it (static: helm is not run here)', () => {
    const chart = join(ROOT, 'helm', 'neonpro', 'templates');
    const hpa = readFileSync(join(chart, 'ai-agent', 'hpa.yaml'), 'utf8');
    expect(hpa).toMatch(new RegExp(`metric:\\s*\\n\\s*name: ${metric}\\s*\\n`));
    const adapter = readFileSync(join(chart, 'prometheus-adapter-rules.yaml'), 'utf8');
    const configYaml = adapter.slice(
      adapter.indexOf('config.yaml: |') + 'config.yaml: |'.length,
      adapter.lastIndexOf('{{-'),
    );
    const rule = adapterRules(configYaml.replace(/^ {4}/gm, ''))[0];
    expect(rule.seriesQuery.startsWith(`${metric}{`)).toBe(true);
    expect(rule.name.as).toBe(metric);
  });
});

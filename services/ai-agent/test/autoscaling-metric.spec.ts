// Lives with the agent because it reads the agent's own metrics code (services may import their
// own src; test/deploy may not). The manifests must name the series the code registers.
import { type Gauge, Registry } from 'prom-client';
import { AgentMetrics } from '../src/chat/agent-metrics.service.js';
import { chartWithDependencies, helmTemplate } from '../../../test/deploy/support/helm.js';
import { readYaml, renderKustomization } from '../../../test/deploy/support/k8s.js';
import { must } from '@neonpro/testing';

/** A series as the agent registers it: read from the registry, not a string. */
function registeredName(pick: (m: AgentMetrics) => Gauge): string {
  const registry = new Registry();
  const metrics = new AgentMetrics(registry);
  const name = registry
    .getMetricsAsArray()
    .map((m) => m.name)
    .find((n) => registry.getSingleMetric(n) === pick(metrics));
  if (!name) {
    throw new Error('the AgentMetrics gauge is not registered');
  }
  return name;
}

type Hpa = { spec: { metrics: { type: string; external?: { metric: { name: string } } }[] } };
type AdapterRule = { seriesQuery: string; name: { matches: string; as: string }; metricsQuery: string };

/** The External metrics an HPA reads (prometheus-adapter mode scales the agent on one). */
function externalMetricNames(hpa: Hpa): string[] {
  return hpa.spec.metrics.filter((m) => m.type === 'External').map((m) => m.external!.metric.name);
}

const queueDepth = registeredName((m) => m.queueDepth);
const inflight = registeredName((m) => m.inflight);
const rules = readYaml<{ rules: { external: AdapterRule[] } }>('helm', 'prometheus-adapter-values.yaml').rules.external;

describe('agent autoscaling metric (prometheus-adapter mode)', () => {
  it('reads gauges the agent registers', async () => {
    const registry = new Registry();
    new AgentMetrics(registry);
    const text = await registry.metrics();
    expect(text).toContain(`# TYPE ${queueDepth} gauge`);
    expect(text).toContain(`# TYPE ${inflight} gauge`);
  });

  it('the adapter rule (single home of the rules) builds it from both series: the shared queue once, runs summed', () => {
    expect(rules).toHaveLength(1);
    const rule = must(rules[0], 'the adapter rule');
    expect(rule.seriesQuery.startsWith(`${queueDepth}{`)).toBe(true);
    expect(new RegExp(rule.name.matches).test(queueDepth)).toBe(true);
    expect(rule.metricsQuery).toBe(`max(<<.Series>>{<<.LabelMatchers>>}) + sum(${inflight}{<<.LabelMatchers>>})`);
  });

  it('the kustomize prometheus-adapter component scales the agent on the metric the rule serves', () => {
    const hpa = renderKustomization({
      resources: ['base'],
      components: ['components/prometheus', 'components/autoscaling-prometheus-adapter'],
    }).find((o) => o.kind === 'HorizontalPodAutoscaler' && o.metadata.name === 'neonpro-ai-agent');
    expect(externalMetricNames(hpa as unknown as Hpa)).toEqual([must(rules[0], 'rules[0]').name.as]);
  });

  it('the chart in prometheus-adapter mode scales the agent on the metric the rule serves', () => {
    const { dir, cleanup } = chartWithDependencies();
    try {
      const hpa = helmTemplate(dir, { values: ['examples/prometheus-adapter.yaml'] }).find(
        (o) => o.kind === 'HorizontalPodAutoscaler' && o.metadata.name === 'neonpro-ai-agent',
      );
      expect(externalMetricNames(hpa as unknown as Hpa)).toEqual([must(rules[0], 'rules[0]').name.as]);
    } finally {
      cleanup();
    }
  });
});

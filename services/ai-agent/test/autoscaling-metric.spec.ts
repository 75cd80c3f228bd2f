// Lives with the agent because it reads the agent's own metrics code (services may import their
// own src; test/deploy may not). The manifests must name the series the code registers.
import { Registry } from 'prom-client';
import { AgentMetrics } from '../src/chat/agent-metrics.service.js';
import { chartWithDependencies, helmTemplate } from '../../../test/deploy/support/helm.js';
import { readYaml, renderKustomization } from '../../../test/deploy/support/k8s.js';

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

const metric = queueDepthMetricName();

describe('agent autoscaling metric', () => {
  it('is a gauge the agent registers', async () => {
    const registry = new Registry();
    new AgentMetrics(registry);
    const text = await registry.metrics();
    expect(text).toContain(`# TYPE ${metric} gauge`);
  });

  it('the kustomize prometheus-adapter component scales the agent on it', () => {
    const hpa = renderKustomization({
      resources: ['base'],
      components: ['components/prometheus', 'components/autoscaling-prometheus-adapter'],
    }).find((o) => o.kind === 'HorizontalPodAutoscaler' && o.metadata.name === 'neonpro-ai-agent');
    expect(podsMetricNames(hpa as unknown as Hpa)).toEqual([metric]);
  });

  it('the chart in prometheus-adapter mode scales the agent on it', () => {
    const { dir, cleanup } = chartWithDependencies();
    try {
      const hpa = helmTemplate(dir, { values: ['examples/prometheus-adapter.yaml'] }).find(
        (o) => o.kind === 'HorizontalPodAutoscaler' && o.metadata.name === 'neonpro-ai-agent',
      );
      expect(podsMetricNames(hpa as unknown as Hpa)).toEqual([metric]);
    } finally {
      cleanup();
    }
  });

  it('the prometheus-adapter values (single home of the rules) serve it under the same name', () => {
    const rules = readYaml<{ rules: { custom: AdapterRule[] } }>('helm', 'prometheus-adapter-values.yaml').rules.custom;
    const rule = rules.find((r) => r.name.as === metric)!;
    expect(rule.seriesQuery.startsWith(`${metric}{`)).toBe(true);
    expect(new RegExp(rule.name.matches).test(metric)).toBe(true);
  });
});

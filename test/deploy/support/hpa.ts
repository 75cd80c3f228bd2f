import type { K8sObject } from './k8s.js';

/** The parts of an autoscaling/v2 HPA (or KEDA's HPA config) the deploy tests read. */
export interface Behavior {
  scaleUp: { stabilizationWindowSeconds: number; policies: { type: string; value: number; periodSeconds: number }[] };
  scaleDown: { stabilizationWindowSeconds: number; policies: { type: string; value: number; periodSeconds: number }[] };
}
export interface ExternalMetric {
  metric: { name: string; selector?: { matchLabels: Record<string, string> } };
  target: { type: string; averageValue?: string };
}
export interface HpaSpec {
  scaleTargetRef: { kind: string; name: string };
  metrics: {
    type: string;
    resource?: { name: string };
    pods?: { metric: { name: string } };
    external?: ExternalMetric;
  }[];
  behavior: Behavior;
}

export const hpaSpecOf = (hpa: K8sObject): HpaSpec => hpa.spec as unknown as HpaSpec;

const metricName = (m: HpaSpec['metrics'][number]): string =>
  m.resource?.name ?? m.pods?.metric.name ?? m.external?.metric.name ?? '';

/** The HPA's metric names, sorted. */
export const metricsOf = (hpa: K8sObject): string[] => hpaSpecOf(hpa).metrics.map(metricName).sort();

/** Metric name → its type (Resource, Pods, External). */
export const metricTypes = (hpa: K8sObject): Record<string, string> =>
  Object.fromEntries(hpaSpecOf(hpa).metrics.map((m): [string, string] => [metricName(m), m.type]));

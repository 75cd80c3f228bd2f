import { collectDefaultMetrics, Registry } from 'prom-client';

export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');

/**
 * One registry per application instance (not prom-client's global), so several instances can
 * live in one process during tests and every series carries the service label.
 */
export function createMetricsRegistry(service: string, instance?: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service, ...(instance ? { instance } : {}) });
  collectDefaultMetrics({ register: registry });
  return registry;
}

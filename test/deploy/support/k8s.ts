import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, relative } from 'node:path';
import { parseAllDocuments, parse as parseYaml, stringify } from 'yaml';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { PrometheusRule, ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Job } from 'kubernetes-models/batch/v1';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Pod, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { must } from '@neonpro/testing';

/** Repository root (this file is test/deploy/support/k8s.ts). */
export const ROOT = join(import.meta.dirname, '..', '..', '..');
export const OVERLAYS = ['dev', 'prod'] as const;

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  [key: string]: unknown;
}

/** `kubectl kustomize` (offline); a missing kubectl fails the suite instead of skipping it. */
export function renderOverlay(overlay: string): K8sObject[] {
  const out = execFileSync('kubectl', ['kustomize', join(ROOT, 'k8s', 'overlays', overlay)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return parseManifests(out);
}

/**
 * A scratch overlay of k8s/ directories (paths relative to k8s/), e.g. the base with the components
 * of an autoscaling mode no shipped overlay uses.
 */
export function renderKustomization(k: {
  resources: string[];
  components?: string[];
  namespace?: string;
}): K8sObject[] {
  const dir = mkdtempSync(join(tmpdir(), 'neonpro-kustomize-'));
  try {
    const rel = (p: string) => relative(dir, join(ROOT, 'k8s', p));
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      stringify({
        apiVersion: 'kustomize.config.k8s.io/v1beta1',
        kind: 'Kustomization',
        ...(k.namespace ? { namespace: k.namespace } : {}),
        resources: k.resources.map(rel),
        components: (k.components ?? []).map(rel),
      }),
    );
    const out = execFileSync('kubectl', ['kustomize', '--load-restrictor=LoadRestrictionsNone', dir], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return parseManifests(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function parseManifests(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length) {
        throw new Error(`YAML error: ${must(d.errors[0], 'd.errors[0]').message}`);
      }
      return d.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

export function readYaml<T = unknown>(...path: string[]): T {
  return parseYaml(readFileSync(join(ROOT, ...path), 'utf8')) as T;
}

type Validatable = { validate(): void };
const MODELS: Record<string, new (data: never) => Validatable> = {
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'batch/v1/Job': Job,
  'networking.k8s.io/v1/Ingress': Ingress,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'v1/ConfigMap': ConfigMap,
  'v1/Pod': Pod,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
  // KEDA's CRD schema as published by @kubernetes-models/keda (generated from kedacore/keda's CRDs).
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
};

/**
 * Validates against the Kubernetes (and Prometheus Operator, KEDA CRD) JSON schemas of
 * kubernetes-models; throws naming the object. A kind without a validator is an error too.
 */
export function validateObject(obj: K8sObject): void {
  const key = `${obj.apiVersion}/${obj.kind}`;
  const Model = MODELS[key];
  if (!Model) {
    throw new Error(`no schema validator for ${key} (${obj.metadata?.name})`);
  }
  try {
    new Model(obj as never).validate();
  } catch (err) {
    throw new Error(`${key} ${obj.metadata.name}: ${(err as Error).message}`, { cause: err });
  }
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown> & { capabilities?: { drop?: string[] } };
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] }; sleep?: { seconds: number } } };
  volumeMounts?: { name: string; mountPath: string }[];
}
export interface Probe {
  httpGet?: { path: string; port: string | number };
  tcpSocket?: { port: string | number };
  exec?: { command: string[] };
}
export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  securityContext?: Record<string, unknown> & { seccompProfile?: { type: string } };
  automountServiceAccountToken?: boolean;
  serviceAccountName?: string;
  terminationGracePeriodSeconds?: number;
  topologySpreadConstraints?: { labelSelector?: { matchLabels?: Record<string, string> } }[];
  volumes?: { name: string; emptyDir?: unknown }[];
}

export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'Job', 'Pod'];

export function podSpecOf(obj: K8sObject): PodSpec | undefined {
  if (obj.kind === 'Pod') {
    return obj.spec as unknown as PodSpec;
  }
  if (!WORKLOAD_KINDS.includes(obj.kind)) {
    return undefined;
  }
  return (obj.spec as { template: { spec: PodSpec } }).template.spec;
}

export function podLabelsOf(obj: K8sObject): Record<string, string> {
  if (obj.kind === 'Pod') {
    return obj.metadata.labels ?? {};
  }
  return (obj.spec as { template: { metadata?: { labels?: Record<string, string> } } }).template.metadata?.labels ?? {};
}

/** Whether a binary is on PATH, without running it. */
export function onPath(bin: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, bin)));
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Helm's values merge: maps merge recursively, everything else is replaced. */
export function mergeValues(base: unknown, override: unknown): unknown {
  if (!isRecord(base) || !isRecord(override)) {
    return override === undefined ? base : override;
  }
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(override)) {
    out[k] = mergeValues(base[k], v);
  }
  return out;
}

/** The rendered object of this kind and name; a missing one fails the test, listing what was rendered. */
export function findObject(objects: K8sObject[], kind: string, name: string): K8sObject {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) {
    throw new Error(`${kind}/${name} not rendered (${objects.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')})`);
  }
  return o;
}

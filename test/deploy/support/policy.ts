import { agentConfigSchema, gatewayConfigSchema } from '@neonpro/config';
import { must } from '@neonpro/testing';
import { type Container, type K8sObject, type Probe, podLabelsOf, podSpecOf } from './k8s.js';

/** Config schema of each service, keyed by its app.kubernetes.io/name. */
export const SERVICE_SCHEMAS = { gateway: gatewayConfigSchema, 'ai-agent': agentConfigSchema } as const;
export type ServiceName = keyof typeof SERVICE_SCHEMAS;

/** Env var that holds each service's drain bound, and its schema default. */
const DRAIN_VAR: Record<ServiceName, 'SHUTDOWN_TIMEOUT_MS' | 'AGENT_DRAIN_TIMEOUT_MS'> = {
  gateway: 'SHUTDOWN_TIMEOUT_MS',
  'ai-agent': 'AGENT_DRAIN_TIMEOUT_MS',
};

const LONG_RUNNING = ['Deployment', 'StatefulSet'];

function probeProblems(c: Container, name: string, ports: Set<string | number>): string[] {
  const out: string[] = [];
  for (const kind of ['startupProbe', 'readinessProbe', 'livenessProbe'] as const) {
    const p: Probe | undefined = c[kind];
    if (!p) {
      out.push(`${name}: no ${kind}`);
      continue;
    }
    const port = p.httpGet?.port ?? p.tcpSocket?.port;
    if (port !== undefined && !ports.has(port)) {
      out.push(`${name}: ${kind} port ${port} is not a container port`);
    }
  }
  return out;
}

/**
 * Pod hygiene of one object, as a list of violations (empty = compliant): limits, non-root,
 * read-only root FS, no privilege escalation, no capabilities, seccomp, no SA token, probes,
 * preStop, spread, labels and name+instance selectors.
 */
export function hygieneProblems(obj: K8sObject, env: Record<string, Record<string, string>> = {}): string[] {
  const spec = podSpecOf(obj);
  if (!spec) {
    return [];
  }
  const id = `${obj.kind}/${obj.metadata.name}`;
  const out: string[] = [];
  const podSc = spec.securityContext ?? {};
  if (podSc.runAsNonRoot !== true) {
    out.push(`${id}: pod runAsNonRoot is not true`);
  }
  if (typeof podSc.runAsUser !== 'number' || podSc.runAsUser === 0) {
    out.push(`${id}: pod runAsUser is not a non-root uid`);
  }
  if (podSc.seccompProfile?.type !== 'RuntimeDefault') {
    out.push(`${id}: pod seccomp is not RuntimeDefault`);
  }
  if (spec.automountServiceAccountToken !== false) {
    out.push(`${id}: service account token is mounted`);
  }

  const labels = podLabelsOf(obj);
  for (const l of ['name', 'instance', 'component', 'part-of']) {
    if (!labels[`app.kubernetes.io/${l}`]) {
      out.push(`${id}: pod label app.kubernetes.io/${l} missing`);
    }
  }
  if (obj.kind !== 'Pod' && obj.kind !== 'Job') {
    const selector = (obj.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels;
    const keys = Object.keys(selector).sort();
    if (keys.join() !== 'app.kubernetes.io/instance,app.kubernetes.io/name') {
      out.push(`${id}: selector uses ${keys.join(', ')} instead of name + instance`);
    }
  }

  const volumes = new Set((spec.volumes ?? []).filter((v) => v.emptyDir !== undefined).map((v) => v.name));
  for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
    const name = `${id}/${c.name}`;
    for (const r of ['cpu', 'memory']) {
      if (!c.resources?.requests?.[r]) {
        out.push(`${name}: no ${r} request`);
      }
      if (!c.resources?.limits?.[r]) {
        out.push(`${name}: no ${r} limit`);
      }
    }
    if (c.image.endsWith(':latest') || !/:[^/]+$/.test(c.image)) {
      out.push(`${name}: image ${c.image} has no pinned tag`);
    }
    const sc = c.securityContext ?? {};
    if (sc.readOnlyRootFilesystem !== true) {
      out.push(`${name}: root filesystem is writable`);
    }
    if (sc.allowPrivilegeEscalation !== false) {
      out.push(`${name}: privilege escalation allowed`);
    }
    if (sc.runAsNonRoot !== true) {
      out.push(`${name}: runAsNonRoot is not true`);
    }
    if (sc.privileged === true) {
      out.push(`${name}: privileged`);
    }
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) {
      out.push(`${name}: capabilities not dropped (ALL)`);
    }
    const tmp = (c.volumeMounts ?? []).find((m) => m.mountPath === '/tmp');
    if (!tmp || !volumes.has(tmp.name)) {
      out.push(`${name}: /tmp is not an emptyDir (read-only root FS needs it)`);
    }

    if (!LONG_RUNNING.includes(obj.kind)) {
      continue;
    }
    const ports = new Set<string | number>();
    for (const p of c.ports ?? []) {
      ports.add(p.containerPort);
      if (p.name) {
        ports.add(p.name);
      }
    }
    out.push(...probeProblems(c, name, ports));
    const preStop = c.lifecycle?.preStop;
    const sleepS =
      preStop?.sleep?.seconds ?? (preStop?.exec?.command[0] === 'sleep' ? Number(preStop.exec.command[1]) : NaN);
    const svc = labels['app.kubernetes.io/name'] as ServiceName;
    // Agents get no traffic through a Service (they pull work), so a preStop pause only delays the
    // drain; everything else is behind a Service and needs endpoints removed before it stops.
    if (svc === 'ai-agent') {
      if (sleepS > 0) {
        out.push(`${name}: preStop pause on an agent (it pulls work; nothing to wait for)`);
      }
    } else if (!(sleepS > 0)) {
      out.push(`${name}: no preStop pause`);
    }

    if (svc in SERVICE_SCHEMAS) {
      for (const path of ['/health/live', '/health/ready']) {
        const used = [c.startupProbe, c.readinessProbe, c.livenessProbe].some((p) => p?.httpGet?.path === path);
        if (!used) {
          out.push(`${name}: no probe on ${path}`);
        }
      }
      if (c.readinessProbe?.httpGet?.path !== '/health/ready') {
        out.push(`${name}: readiness is not /health/ready`);
      }
      if (c.livenessProbe?.httpGet?.path !== '/health/live') {
        out.push(`${name}: liveness is not /health/live`);
      }
      // The drain bound actually in force: the configured value, else the schema default.
      const drainVar = DRAIN_VAR[svc];
      const configured = env[svc]?.[drainVar];
      const shape = SERVICE_SCHEMAS[svc].shape as Record<string, { parse(v: unknown): unknown }>;
      const drainMs = Number(must(shape[drainVar], drainVar).parse(configured));
      const grace = spec.terminationGracePeriodSeconds ?? 30;
      if (grace <= (sleepS || 0) + drainMs / 1000) {
        out.push(`${name}: terminationGracePeriodSeconds ${grace} <= preStop ${sleepS}s + ${drainVar} ${drainMs}ms`);
      }
      if (svc === 'ai-agent') {
        // A run may take AGENT_MAX_STEPS model calls of AGENT_MODEL_TIMEOUT_MS each.
        const num = (v: string) => Number(must(shape[v], v).parse(env[svc]?.[v]));
        const longestRunMs = num('AGENT_MAX_STEPS') * num('AGENT_MODEL_TIMEOUT_MS');
        if (drainMs < longestRunMs) {
          out.push(`${name}: ${drainVar} ${drainMs}ms < longest run ${longestRunMs}ms`);
        }
        if (grace < drainMs / 1000 + 15) {
          out.push(`${name}: terminationGracePeriodSeconds ${grace} < drain + 15 s`);
        }
      }
    }
  }
  if (LONG_RUNNING.includes(obj.kind)) {
    const spread = spec.topologySpreadConstraints ?? [];
    if (spread.length === 0) {
      out.push(`${id}: no topologySpreadConstraints`);
    }
    for (const t of spread) {
      const sel = t.labelSelector?.matchLabels ?? {};
      if (sel['app.kubernetes.io/name'] !== labels['app.kubernetes.io/name']) {
        out.push(`${id}: topology spread does not select its own pods`);
      }
    }
  }
  return out;
}

/**
 * Env var names a workload sets for its main container, with values where known: literal env,
 * ConfigMap keys loaded with envFrom (looked up among `objects`) and secret references (value
 * unknown). envFrom of a Secret is reported because its keys cannot be checked.
 */
export function containerEnv(
  obj: K8sObject,
  objects: K8sObject[],
): { values: Record<string, string>; secretRefs: string[]; unresolved: string[] } {
  const c = must(podSpecOf(obj)?.containers[0], `a container in ${obj.metadata.name}`);
  const values: Record<string, string> = {};
  const secretRefs: string[] = [];
  const unresolved: string[] = [];
  for (const from of c.envFrom ?? []) {
    if (from.configMapRef) {
      const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === from.configMapRef!.name);
      if (!cm) {
        unresolved.push(`ConfigMap ${from.configMapRef.name}`);
      } else {
        Object.assign(values, cm.data ?? {});
      }
    }
    if (from.secretRef) {
      unresolved.push(`envFrom Secret ${from.secretRef.name} (keys unknown)`);
    }
  }
  for (const e of c.env ?? []) {
    if (e.valueFrom?.secretKeyRef) {
      secretRefs.push(e.name);
    } else {
      values[e.name] = e.value ?? '';
    }
  }
  return { values, secretRefs, unresolved };
}

type Labels = Record<string, string>;
interface Peer {
  podSelector?: { matchLabels?: Labels };
  namespaceSelector?: { matchLabels?: Labels };
  ipBlock?: unknown;
}
interface PolicyRule {
  from?: Peer[];
  to?: Peer[];
  ports?: { port?: number | string }[];
}
interface PolicySpec {
  podSelector: { matchLabels?: Labels; matchExpressions?: unknown[] };
  policyTypes?: string[];
  ingress?: PolicyRule[];
  egress?: PolicyRule[];
}

const selects = (selector: Labels | undefined, labels: Labels): boolean =>
  Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);

/** NetworkPolicies (same namespace) whose podSelector selects pods with these labels. */
export function policiesFor(objects: K8sObject[], labels: Labels): { name: string; spec: PolicySpec }[] {
  return objects
    .filter((o) => o.kind === 'NetworkPolicy')
    .map((o) => ({ name: o.metadata.name, spec: o.spec as unknown as PolicySpec }))
    .filter((p) => !p.spec.podSelector.matchExpressions && selects(p.spec.podSelector.matchLabels, labels));
}

/**
 * Pods that a default deny covers but no policy admits: every covered pod needs some admitting
 * rule, and a pod behind a Service needs an ingress rule. Empty = every pod can work.
 */
export function unadmittedPods(objects: K8sObject[]): string[] {
  const out: string[] = [];
  const services = objects.filter((o) => o.kind === 'Service');
  for (const w of objects.filter((o) => podSpecOf(o))) {
    const labels = podLabelsOf(w);
    const policies = policiesFor(objects, labels);
    const denies = policies.filter((p) => !p.spec.ingress?.length && !p.spec.egress?.length);
    if (denies.length === 0) {
      continue;
    }
    const id = `${w.kind}/${w.metadata.name}`;
    const types = (p: { spec: PolicySpec }) => p.spec.policyTypes ?? ['Ingress'];
    const egress = policies.some((p) => types(p).includes('Egress') && (p.spec.egress?.length ?? 0) > 0);
    const ingress = policies.some((p) => (p.spec.ingress?.length ?? 0) > 0);
    if (!egress && !ingress) {
      out.push(`${id}: covered by ${denies.map((d) => d.name).join(', ')}, no policy admits it`);
    }
    const backend = services.some((s) => {
      const sel = (s.spec as { selector?: Labels }).selector;
      return sel !== undefined && Object.keys(sel).length > 0 && selects(sel, labels);
    });
    if (backend && !ingress) {
      out.push(`${id}: behind a Service, no policy admits ingress to it`);
    }
  }
  return out;
}

/** Whether some policy selecting `to` admits ingress from pods labelled `from` (same namespace) on `port`. */
export function admitsIngress(objects: K8sObject[], to: Labels, from: Labels, port: number): boolean {
  return policiesFor(objects, to).some((p) =>
    (p.spec.ingress ?? []).some(
      (r) =>
        (r.ports ?? []).some((x) => Number(x.port) === port) &&
        (r.from ?? []).some(
          (peer) => !peer.namespaceSelector && !peer.ipBlock && selects(peer.podSelector?.matchLabels, from),
        ),
    ),
  );
}

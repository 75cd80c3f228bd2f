import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { must } from '@neonpro/testing';
import { renderMonitoring } from '../../tools/chart/monitoring.mjs';
import { CHART, NATS_ARCHIVE } from './support/chart.js';
import { helm } from './support/helm.js';
import { type Behavior, hpaSpecOf, metricsOf, metricTypes } from './support/hpa.js';
import {
  findObject as find,
  type K8sObject,
  OVERLAYS,
  ROOT,
  parseManifests,
  podSpecOf,
  renderKustomization,
  renderOverlay,
  validateObject,
} from './support/k8s.js';
import { admitsIngress, containerEnv, hygieneProblems, policiesFor, unadmittedPods } from './support/policy.js';

const rendered = { dev: renderOverlay('dev'), prod: renderOverlay('prod') };
const migrate = { dev: renderOverlay('dev/migrate'), prod: renderOverlay('prod/migrate') };
const NS = { dev: 'neonpro-dev', prod: 'neonpro' };

function envByService(objects: K8sObject[]): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const d of objects.filter((o) => o.kind === 'Deployment')) {
    out[must(d.metadata.labels?.['app.kubernetes.io/name'], 'app name label')] = containerEnv(d, objects).values;
  }
  return out;
}

const serviceEnv = (objects: K8sObject[], service: 'gateway' | 'ai-agent'): Record<string, string> =>
  must(envByService(objects)[service], `the ${service} Deployment`);

describe.each(OVERLAYS)('kustomize overlay %s', (overlay) => {
  const objects = rendered[overlay];

  it('renders the gateway, the agent, their autoscalers and budgets, and no migration Job', () => {
    for (const name of ['neonpro-gateway', 'neonpro-ai-agent']) {
      for (const kind of ['Deployment', 'Service', 'ServiceAccount', 'PodDisruptionBudget']) {
        expect(find(objects, kind, name).metadata.namespace).toBe(NS[overlay]);
      }
    }
    const scaler = overlay === 'prod' ? 'ScaledObject' : 'HorizontalPodAutoscaler';
    expect(find(objects, scaler, 'neonpro-gateway').metadata.namespace).toBe(NS[overlay]);
    expect(find(objects, scaler, 'neonpro-ai-agent').metadata.namespace).toBe(NS[overlay]);
    // Never two autoscalers on one Deployment (KEDA refuses it; HPAs fight).
    const targets = objects
      .filter((o) => o.kind === 'HorizontalPodAutoscaler' || o.kind === 'ScaledObject')
      .map((o) => (o.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name)
      .sort();
    expect(targets).toEqual(['neonpro-ai-agent', 'neonpro-gateway']);
    // Applied and waited on first (k8s/overlays/<env>/migrate), never alongside the Deployments.
    expect(objects.some((o) => o.kind === 'Job')).toBe(false);
    expect(find(migrate[overlay], 'Job', 'neonpro-db-migrate').metadata.namespace).toBe(NS[overlay]);
  });

  it('validates every object (and the migrate kustomization) against the Kubernetes and CRD schemas', () => {
    const failures: string[] = [];
    for (const o of [...objects, ...migrate[overlay]]) {
      try {
        validateObject(o);
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
    expect(failures).toEqual([]);
  });

  it('meets the pod hygiene policy in every workload', () => {
    const workloads = [...objects, ...migrate[overlay]].filter((o) => podSpecOf(o));
    expect(workloads.length).toBeGreaterThanOrEqual(3);
    const env = envByService(objects);
    expect(workloads.flatMap((w) => hygieneProblems(w, env))).toEqual([]);
  });

  it('keeps the drain inside the grace period with the configured drain timeouts', () => {
    // The ConfigMaps set them explicitly, so the check above used the values that ship.
    expect(serviceEnv(objects, 'gateway').SHUTDOWN_TIMEOUT_MS).toBeDefined();
    expect(serviceEnv(objects, 'ai-agent').AGENT_DRAIN_TIMEOUT_MS).toBeDefined();
  });

  it('never mounts service account tokens', () => {
    for (const sa of objects.filter((o) => o.kind === 'ServiceAccount')) {
      expect([sa.metadata.name, sa.automountServiceAccountToken]).toEqual([sa.metadata.name, false]);
    }
  });

  it('never ships a Secret object: secrets are referenced by name only', () => {
    expect([...objects, ...migrate[overlay]].filter((o) => o.kind === 'Secret')).toEqual([]);
    const job = find(migrate[overlay], 'Job', 'neonpro-db-migrate');
    const c = must(podSpecOf(job)?.containers[0], 'the migration container');
    expect(c.command).toEqual(['node', 'dist/libs/database/src/cli/migrate.js']);
    expect(c.image).toMatch(/^neonpro\/gateway:/);
    // Only the owner's URL (direct or session mode, so the advisory lock is not lost in a
    // transaction pooler), from its own Secret: the services' Secret is not read.
    expect(c.env!.find((e) => e.name === 'DATABASE_URL')).toBeUndefined();
    expect(c.env!.find((e) => e.name === 'DATABASE_MIGRATION_URL')!.valueFrom!.secretKeyRef).toEqual({
      name: 'neonpro-database-migration',
      key: 'DATABASE_MIGRATION_URL',
    });
  });

  it('makes the migration Job safe to re-run on every deploy, first in an Argo CD sync', () => {
    const job = find(migrate[overlay], 'Job', 'neonpro-db-migrate');
    const spec = job.spec as { ttlSecondsAfterFinished?: number; backoffLimit?: number };
    expect(spec.ttlSecondsAfterFinished).toBeGreaterThan(0);
    expect(spec.backoffLimit).toBeGreaterThan(0);
    expect(job.metadata.annotations!['argocd.argoproj.io/hook-delete-policy']).toBe('BeforeHookCreation');
    expect(job.metadata.annotations!['argocd.argoproj.io/sync-wave']).toBe('-1');
    // Its policy comes with it: the namespace's default deny may already be there on an upgrade.
    expect(unadmittedPods([...objects, ...migrate[overlay]])).toEqual([]);
  });

  it('scales the gateway down at most one pod a minute after a long window (sockets per pod under KEDA)', () => {
    let scaleDown: Behavior['scaleDown'];
    if (overlay === 'prod') {
      const so = find(objects, 'ScaledObject', 'neonpro-gateway').spec as {
        advanced: { horizontalPodAutoscalerConfig: { behavior: Behavior } };
        triggers: { type: string; metadata: Record<string, string> }[];
      };
      expect(so.triggers.map((t) => t.type)).toEqual(['prometheus', 'cpu']);
      expect(must(so.triggers[0], 'a trigger').metadata.query).toContain('socket_connections{namespace="neonpro"');
      // Below the per-pod cap, so new pods exist before one refuses sockets.
      expect(Number(must(so.triggers[0], 'a trigger').metadata.threshold)).toBeLessThan(
        Number(serviceEnv(objects, 'gateway').SOCKET_MAX_CONNECTIONS),
      );
      scaleDown = so.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown;
    } else {
      const gw = find(objects, 'HorizontalPodAutoscaler', 'neonpro-gateway');
      expect(metricsOf(gw)).toEqual(['cpu']);
      scaleDown = hpaSpecOf(gw).behavior.scaleDown;
    }
    expect(scaleDown.policies).toEqual([{ type: 'Pods', value: 1, periodSeconds: 60 }]);
    expect(scaleDown.stabilizationWindowSeconds).toBeGreaterThanOrEqual(300);
  });

  it('has a disruption budget selecting each Deployment', () => {
    for (const d of objects.filter((o) => o.kind === 'Deployment' && o.metadata.name.startsWith('neonpro-'))) {
      const pdb = find(objects, 'PodDisruptionBudget', d.metadata.name);
      expect((pdb.spec as { selector: unknown }).selector).toEqual((d.spec as { selector: unknown }).selector);
    }
  });

  it('leaves no pod under the default deny that no policy admits', () => {
    expect(unadmittedPods(objects)).toEqual([]);
  });

  it('denies by default and opens only the documented flows', () => {
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
    const deny = find(objects, 'NetworkPolicy', 'neonpro-default-deny').spec as Record<string, unknown>;
    expect(deny).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });

    type Peer = { namespaceSelector?: { matchLabels?: Record<string, string> }; podSelector?: unknown };
    type Rule = { from?: Peer[]; to?: Peer[]; ports?: { port: number | string }[] };
    const gw = find(objects, 'NetworkPolicy', 'neonpro-gateway').spec as { ingress: Rule[]; egress: Rule[] };
    const sources = gw.ingress.flatMap((r) =>
      r.from!.map((p) => p.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name']),
    );
    expect(sources.sort()).toEqual(['ingress-nginx', 'monitoring']);

    const agent = find(objects, 'NetworkPolicy', 'neonpro-ai-agent').spec as { ingress: Rule[]; egress: Rule[] };
    expect(agent.ingress).toHaveLength(1);
    expect(must(agent.ingress[0]?.from?.[0], 'an ingress source').namespaceSelector!.matchLabels).toEqual({
      'kubernetes.io/metadata.name': 'monitoring',
    });

    expect(
      gw.ingress.find(
        (r) => r.from?.[0]?.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === 'monitoring',
      )!.ports,
    ).toEqual([{ protocol: 'TCP', port: 'metrics' }]);

    // Egress ports: DNS, NATS, Redis, Postgres/Supabase, HTTPS (Supabase API and LLM APIs), Ollama,
    // and NATS cluster routes between the official chart's servers.
    const allowed = new Set([53, 4222, 6379, 5432, 6543, 443, 11434, 6222]);
    for (const p of policies) {
      const egress = ((p.spec as { egress?: Rule[] }).egress ?? []).flatMap((r) => r.ports ?? []);
      for (const port of egress) {
        expect([p.metadata.name, allowed.has(Number(port.port))]).toEqual([p.metadata.name, true]);
      }
    }
    // Every NeonPro pod is covered by a policy of its own besides the default deny.
    const covered = policies.map(
      (p) => (p.spec as { podSelector: { matchLabels?: Record<string, string> } }).podSelector,
    );
    for (const w of objects.filter((o) => podSpecOf(o))) {
      const name = (w.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels[
        'app.kubernetes.io/name'
      ];
      expect([name, covered.some((s) => s.matchLabels?.['app.kubernetes.io/name'] === name)]).toEqual([name, true]);
    }
  });

  it('exposes the gateway through ingress-nginx with websocket/SSE friendly settings, API port only', () => {
    const ing = find(objects, 'Ingress', 'neonpro-gateway');
    expect(JSON.stringify(ing.spec)).not.toContain('metrics');
    expect(serviceEnv(objects, 'gateway').TRUST_PROXY).toBe('1');
    expect(serviceEnv(objects, 'gateway').METRICS_PORT).toBe('9464');
    const a = ing.metadata.annotations!;
    expect(Number(a['nginx.ingress.kubernetes.io/proxy-read-timeout'])).toBeGreaterThanOrEqual(3600);
    expect(a['nginx.ingress.kubernetes.io/proxy-buffering']).toBe('off');
    // Affinity is opt-in (ingress-cookie-affinity component), not part of either overlay.
    expect(a['nginx.ingress.kubernetes.io/affinity']).toBeUndefined();
  });
});

describe('autoscaling components', () => {
  const agentHpa = (objects: K8sObject[]) => find(objects, 'HorizontalPodAutoscaler', 'neonpro-ai-agent');

  it('cpu (dev overlay): the agent HPA on CPU only, fast up and slow down', () => {
    const hpa = agentHpa(rendered.dev);
    expect(metricsOf(hpa)).toEqual(['cpu']);
    const { scaleUp, scaleDown } = hpaSpecOf(hpa).behavior;
    expect(scaleUp.stabilizationWindowSeconds).toBeLessThan(scaleDown.stabilizationWindowSeconds);
  });

  it('keda (prod overlay): consumer lag of AGENT_RUNS/ai-agents at AGENT_CONCURRENCY, CPU, fallback, pre-warm', () => {
    const so = find(rendered.prod, 'ScaledObject', 'neonpro-ai-agent').spec as {
      fallback: { replicas: number };
      minReplicaCount: number;
      advanced: { horizontalPodAutoscalerConfig: { behavior: Behavior } };
      triggers: { type: string; metadata: Record<string, string> }[];
    };
    const concurrency = serviceEnv(rendered.prod, 'ai-agent').AGENT_CONCURRENCY;
    expect(so.triggers.find((t) => t.type === 'nats-jetstream')!.metadata).toMatchObject({
      account: '$G',
      stream: 'AGENT_RUNS',
      consumer: 'ai-agents',
      lagThreshold: concurrency,
    });
    expect(so.triggers.map((t) => t.type)).toEqual(['nats-jetstream', 'cpu', 'cron']);
    expect(must(so.triggers[2], 'the cron trigger').metadata.timezone).toBe('America/Sao_Paulo');
    expect(so.fallback.replicas).toBeGreaterThanOrEqual(so.minReplicaCount);
    const { scaleUp, scaleDown } = so.advanced.horizontalPodAutoscalerConfig.behavior;
    expect(scaleUp.stabilizationWindowSeconds).toBeLessThan(scaleDown.stabilizationWindowSeconds);
    expect(
      rendered.prod.some((o) => o.kind === 'HorizontalPodAutoscaler' && o.metadata.name === 'neonpro-ai-agent'),
    ).toBe(false);
  });

  it('prometheus-adapter: External agent_run_demand at AGENT_CONCURRENCY, Pods sockets, valid objects', () => {
    const objects = renderKustomization({
      resources: ['base'],
      components: ['components/prometheus', 'components/autoscaling-prometheus-adapter'],
      namespace: 'neonpro',
    });
    for (const o of objects) {
      validateObject(o);
    }
    const hpa = agentHpa(objects);
    // Every agent reports the same shared queue: a Pods metric would multiply it by the replicas.
    expect(metricTypes(hpa)).toEqual({ cpu: 'Resource', agent_run_demand: 'External' });
    const external = hpaSpecOf(hpa).metrics.find((m) => m.type === 'External')!.external!;
    const agentService = find(objects, 'Service', 'neonpro-ai-agent');
    expect(external).toEqual({
      metric: { name: 'agent_run_demand', selector: { matchLabels: { service: agentService.metadata.name } } },
      target: { type: 'AverageValue', averageValue: serviceEnv(objects, 'ai-agent').AGENT_CONCURRENCY },
    });
    // Sockets are each gateway pod's own: that one stays a Pods metric.
    expect(metricTypes(find(objects, 'HorizontalPodAutoscaler', 'neonpro-gateway'))).toEqual({
      cpu: 'Resource',
      socket_connections: 'Pods',
    });
  });
});

describe('overlay differences', () => {
  it('dev runs NATS (JetStream) and Redis in the namespace; prod scrapes metrics instead', () => {
    const dev = rendered.dev;
    const nats = find(dev, 'StatefulSet', 'nats');
    expect(must(podSpecOf(nats)?.containers[0], 'the NATS container').image).toMatch(/^nats:\d+\.\d+\.\d+/);
    expect(must(podSpecOf(nats)?.containers[0], 'the NATS container').command ?? (nats.spec as never)).toBeDefined();
    expect(JSON.stringify(nats)).toContain('--jetstream');
    expect(find(dev, 'Deployment', 'redis')).toBeDefined();
    expect(dev.some((o) => o.kind === 'ServiceMonitor')).toBe(false);

    const prod = rendered.prod;
    expect(
      prod
        .filter((o) => o.kind === 'ServiceMonitor')
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(['neonpro-ai-agent', 'neonpro-gateway']);
    for (const sm of prod.filter((o) => o.kind === 'ServiceMonitor')) {
      // kube-prometheus-stack selects on it.
      expect(sm.metadata.labels!.release).toBe('kube-prometheus-stack');
    }
    expect(
      (find(prod, 'ServiceMonitor', 'neonpro-gateway').spec as { endpoints: { port: string }[] }).endpoints[0]?.port,
    ).toBe('metrics');
    expect(prod.some((o) => o.metadata.name === 'nats' || o.metadata.name === 'redis')).toBe(false);
  });

  it('prod ships the alerts and the dashboard generated from the chart (npm run chart:sync)', () => {
    for (const [file, text] of Object.entries(renderMonitoring())) {
      const committed = readFileSync(join(ROOT, 'k8s', 'components', 'prometheus', file), 'utf8');
      const docs = (yaml: string): unknown[] => parseAllDocuments(yaml).map((d) => d.toJS() as unknown);
      expect([file, docs(committed)]).toEqual([file, docs(text)]);
    }
    expect(find(rendered.prod, 'ConfigMap', 'neonpro-dashboard').metadata.labels!.grafana_dashboard).toBe('1');
    expect(find(rendered.prod, 'PrometheusRule', 'neonpro-alerts')).toBeDefined();
  });

  it('dev logs at debug through a ConfigMap merge, without repeating the base', () => {
    expect(serviceEnv(rendered.dev, 'gateway').LOG_LEVEL).toBe('debug');
    expect(serviceEnv(rendered.prod, 'gateway').LOG_LEVEL).toBe('info');
  });
});

describe('the policy check itself', () => {
  it('reports a container without limits, probes or a read-only root filesystem', () => {
    const d = structuredClone(find(rendered.prod, 'Deployment', 'neonpro-gateway'));
    const c = must(podSpecOf(d)?.containers[0], 'the gateway container');
    delete c.resources!.limits;
    delete c.readinessProbe;
    c.securityContext!.readOnlyRootFilesystem = false;
    podSpecOf(d)!.terminationGracePeriodSeconds = 10;
    const problems = hygieneProblems(d).join('\n');
    expect(problems).toMatch(/no cpu limit/);
    expect(problems).toMatch(/no readinessProbe/);
    expect(problems).toMatch(/root filesystem is writable/);
    expect(problems).toMatch(/terminationGracePeriodSeconds 10/);
  });

  it('reports an object the schema rejects', () => {
    const d = structuredClone(find(rendered.prod, 'Deployment', 'neonpro-gateway'));
    (must(podSpecOf(d)?.containers[0]?.ports?.[0], 'a container port') as { containerPort: unknown }).containerPort =
      'http';
    expect(() => validateObject(d)).toThrow(/containerPort/);
  });
});

describe('prod with the official nats chart installed as release `nats` in the namespace', () => {
  // The vendored chart, rendered as the prod docs install it (JetStream; clustered with the
  // exporter, so every port it can open is there), next to the prod overlay's policies.
  const nats = parseManifests(
    helm([
      'template',
      'nats',
      join(CHART, 'charts', NATS_ARCHIVE),
      '--namespace',
      'neonpro',
      '--set',
      'config.jetstream.enabled=true,config.cluster.enabled=true,promExporter.enabled=true',
    ]),
  );
  const objects = [...rendered.prod, ...migrate.prod, ...nats];
  const server = {
    'app.kubernetes.io/name': 'nats',
    'app.kubernetes.io/instance': 'nats',
    'app.kubernetes.io/component': 'nats',
  };

  it('leaves none of its pods under the default deny unadmitted', () => {
    expect(nats.filter((o) => podSpecOf(o)).length).toBeGreaterThanOrEqual(3);
    expect(unadmittedPods(objects)).toEqual([]);
  });

  it('admits every port its servers open, and the agents and gateway on 4222', () => {
    const sts = nats.find((o) => o.kind === 'StatefulSet')!;
    const ports = podSpecOf(sts)!.containers.flatMap((c) => c.ports ?? []);
    expect(ports.map((p) => p.containerPort).sort()).toEqual([4222, 6222, 7777, 8222]);
    const admitted = new Set(
      policiesFor(objects, server).flatMap((p) =>
        (p.spec.ingress ?? []).flatMap((r) => (r.ports ?? []).map((x) => Number(x.port))),
      ),
    );
    expect(ports.filter((p) => !admitted.has(p.containerPort))).toEqual([]);
    for (const name of ['gateway', 'ai-agent']) {
      const from = { 'app.kubernetes.io/name': name, 'app.kubernetes.io/instance': 'neonpro' };
      expect([name, admitsIngress(objects, server, from, 4222)]).toEqual([name, true]);
    }
    expect(admitsIngress(objects, server, server, 6222)).toBe(true);
  });

  it('is what NATS_URL and the KEDA monitoring endpoint name', () => {
    const services = Object.fromEntries(
      nats
        .filter((o) => o.kind === 'Service')
        .map((o) => [o.metadata.name, o.spec as { clusterIP?: string; ports: { port: number }[] }]),
    );
    const agent = rendered.prod.find((o) => o.kind === 'Deployment' && o.metadata.name === 'neonpro-ai-agent')!;
    const service = (name: string | undefined) =>
      must(name === undefined ? undefined : services[name], `the Service ${name}`);
    const url = new URL(must(containerEnv(agent, rendered.prod).values.NATS_URL, 'the agent NATS_URL'));
    expect(service(url.hostname).ports.map((p) => p.port)).toContain(Number(url.port));
    const so = rendered.prod.find((o) => o.kind === 'ScaledObject' && o.metadata.name === 'neonpro-ai-agent')!;
    const trigger = (so.spec as { triggers: { type: string; metadata: Record<string, string> }[] }).triggers.find(
      (t) => t.type === 'nats-jetstream',
    )!;
    const [, host, port] = /^([^.]+)\.neonpro\.svc\.cluster\.local:(\d+)$/.exec(
      must(trigger.metadata.natsServerMonitoringEndpoint, 'the monitoring endpoint'),
    )!;
    expect(service(host).clusterIP).toBe('None');
    expect(service(host).ports.map((p) => p.port)).toContain(Number(port));
  });
});

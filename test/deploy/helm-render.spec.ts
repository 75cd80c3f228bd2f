import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { CHART, NATS_ARCHIVE, chartFile } from './support/chart.js';
import {
  ALL_CRDS,
  HELM,
  KEDA_API,
  PROMETHEUS_APIS,
  type RenderOptions,
  chartCopy,
  helm,
  helmNotes,
  helmTemplate,
  helmTemplateError,
} from './support/helm.js';
import { type Behavior, type HpaSpec, hpaSpecOf, metricsOf, metricTypes } from './support/hpa.js';
import {
  findObject as find,
  type K8sObject,
  type PodSpec,
  parseManifests,
  podSpecOf,
  readYaml,
  validateObject,
} from './support/k8s.js';
import { admitsIngress, containerEnv, hygieneProblems, policiesFor, unadmittedPods } from './support/policy.js';
import { must } from '@neonpro/testing';

// The chart as committed, its nats dependency vendored in charts/: every render includes the
// official nats chart's objects (when nats.enabled).
const chart = CHART;

const examples = readdirSync(join(CHART, 'examples')).filter((f) => f.endsWith('.yaml'));
const valueSets: { name: string; values: string[] }[] = [
  { name: 'values.yaml', values: [] },
  ...examples.map((f) => ({ name: `examples/${f}`, values: [`examples/${f}`] })),
];

const ours = (o: K8sObject) => o.metadata.labels?.['app.kubernetes.io/part-of'] === 'neonpro';
const envOf = (objects: K8sObject[]): Record<string, Record<string, string>> =>
  Object.fromEntries(
    objects
      .filter((o) => o.kind === 'Deployment' && ours(o))
      .map((d) => [
        must(d.metadata.labels?.['app.kubernetes.io/name'], 'an app name label'),
        containerEnv(d, objects).values,
      ]),
  );
const gatewayEnv = (objects: K8sObject[]) => must(envOf(objects).gateway, 'the gateway Deployment');

interface Trigger {
  type: string;
  metricType?: string;
  metadata: Record<string, string>;
}
interface ScaledObjectSpec {
  scaleTargetRef: { name: string };
  minReplicaCount: number;
  maxReplicaCount: number;
  fallback: { failureThreshold: number; replicas: number };
  advanced: { horizontalPodAutoscalerConfig: { behavior: Behavior } };
  triggers: Trigger[];
}

describe(`helm (${HELM}) with the vendored nats dependency (charts/${NATS_ARCHIVE})`, () => {
  it('is a real helm 3.x/4.x binary', () => {
    expect(helm(['version', '--short'])).toMatch(/^v[34]\.\d+\.\d+/);
  });

  it.each(valueSets.map((v) => [v.name, v.values] as const))('helm lint --strict with %s', (_name, values) => {
    const args = ['lint', '--strict', chart];
    for (const v of values) {
      args.push('-f', join(chart, v));
    }
    expect(() => helm(args)).not.toThrow();
  });

  describe.each(valueSets.map((v) => [v.name, v.values] as const))('helm template with %s', (_name, values) => {
    // On a cluster with every CRD (KEDA, Prometheus Operator) and on a bare one.
    const renders: [string, K8sObject[]][] = [
      ['all CRDs', helmTemplate(chart, { values, apiVersions: ALL_CRDS })],
      ['no CRDs', helmTemplate(chart, { values })],
    ];

    it.each(renders)('validates every object against the Kubernetes and CRD schemas (%s)', (_c, objects) => {
      const failures: string[] = [];
      for (const o of objects) {
        try {
          validateObject(o);
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
      expect(failures).toEqual([]);
    });

    it.each(renders)('meets pod hygiene in every NeonPro workload (%s)', (_c, objects) => {
      const workloads = objects.filter((o) => podSpecOf(o) && ours(o));
      expect(workloads.length).toBeGreaterThanOrEqual(4);
      expect(workloads.flatMap((w) => hygieneProblems(w, envOf(objects)))).toEqual([]);
    });

    it.each(renders)('leaves no pod under the default deny that no policy admits (%s)', (_c, objects) => {
      expect(objects.some((o) => o.kind === 'NetworkPolicy')).toBe(true);
      expect(unadmittedPods(objects)).toEqual([]);
    });

    it.each(renders)('never autoscales one Deployment twice (%s)', (_c, objects) => {
      const targets = objects
        .filter((o) => o.kind === 'HorizontalPodAutoscaler' || o.kind === 'ScaledObject')
        .map((o) => (o.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name);
      expect(new Set(targets).size).toBe(targets.length);
    });
  });
});

describe('autoscaling modes', () => {
  const agentSo = (o: RenderOptions) =>
    find(helmTemplate(chart, o), 'ScaledObject', 'neonpro-ai-agent').spec as unknown as ScaledObjectSpec;

  it('auto picks keda when the KEDA CRDs are served: consumer lag + CPU, fallback, fast up and slow down', () => {
    const objects = helmTemplate(chart, { apiVersions: [KEDA_API] });
    expect(objects.some((o) => o.kind === 'HorizontalPodAutoscaler' && o.metadata.name === 'neonpro-ai-agent')).toBe(
      false,
    );
    const so = find(objects, 'ScaledObject', 'neonpro-ai-agent').spec as unknown as ScaledObjectSpec;
    expect(so.scaleTargetRef.name).toBe('neonpro-ai-agent');
    const lag = so.triggers.find((t) => t.type === 'nats-jetstream')!;
    expect(lag.metadata).toMatchObject({
      account: '$G',
      stream: 'AGENT_RUNS',
      consumer: 'ai-agents',
      natsServerMonitoringEndpoint: 'nats-headless.neonpro.svc.cluster.local:8222',
      // Derived from AGENT_CONCURRENCY (values.yaml: 4).
      lagThreshold: '4',
    });
    expect(so.triggers.find((t) => t.type === 'cpu')).toMatchObject({
      metricType: 'Utilization',
      metadata: { value: '70' },
    });
    expect(so.fallback.replicas).toBeGreaterThanOrEqual(so.minReplicaCount);
    const { scaleUp, scaleDown } = so.advanced.horizontalPodAutoscalerConfig.behavior;
    expect(scaleUp.stabilizationWindowSeconds).toBeLessThan(scaleDown.stabilizationWindowSeconds);
    expect(Math.max(...scaleUp.policies.map((p) => p.value / p.periodSeconds))).toBeGreaterThan(
      Math.max(...scaleDown.policies.map((p) => p.value / p.periodSeconds)),
    );
  });

  it('derives the lag threshold from AGENT_CONCURRENCY and reads the bundled NATS monitoring', () => {
    const so = agentSo({
      apiVersions: [KEDA_API],
      set: { 'agent.config.AGENT_CONCURRENCY': '8', 'nats.enabled': 'true' },
    });
    expect(must(so.triggers[0], 'so.triggers[0]').metadata).toMatchObject({
      lagThreshold: '8',
      natsServerMonitoringEndpoint: 'neonpro-nats-headless.neonpro.svc.cluster.local:8222',
    });
  });

  it('pre-warms agents in clinic hours with a KEDA cron trigger (America/Sao_Paulo)', () => {
    const so = agentSo({ apiVersions: [KEDA_API], set: { 'agent.autoscaling.prewarm.enabled': 'true' } });
    expect(so.triggers.find((t) => t.type === 'cron')!.metadata).toEqual({
      timezone: 'America/Sao_Paulo',
      start: '0 7 * * 1-6',
      end: '0 20 * * 1-6',
      desiredReplicas: '4',
    });
    expect(
      helmTemplateError(chart, { set: { 'autoscaling.mode': 'cpu', 'agent.autoscaling.prewarm.enabled': 'true' } }),
    ).toMatch(/prewarm needs autoscaling.mode=keda/);
  });

  it('auto falls back to CPU-only HPAs on a cluster without KEDA, and NOTES says so plainly', () => {
    const objects = helmTemplate(chart);
    expect(objects.some((o) => o.kind === 'ScaledObject')).toBe(false);
    expect(metricsOf(find(objects, 'HorizontalPodAutoscaler', 'neonpro-ai-agent'))).toEqual(['cpu']);
    expect(metricsOf(find(objects, 'HorizontalPodAutoscaler', 'neonpro-gateway'))).toEqual(['cpu']);
    expect(helmNotes(chart)).toMatch(/in force: cpu[\s\S]*CPU ONLY/);
  });

  it('prometheus-adapter: External agent_run_demand for agents, Pods sockets for the gateway, served by the adapter rules, ServiceMonitors labelled', () => {
    const objects = helmTemplate(chart, { values: ['examples/prometheus-adapter.yaml'] });
    const agentHpa = find(objects, 'HorizontalPodAutoscaler', 'neonpro-ai-agent');
    // Every agent reports the same shared queue: a Pods metric would multiply it by the replicas.
    expect(metricTypes(agentHpa)).toEqual({ cpu: 'Resource', agent_run_demand: 'External' });
    const external = hpaSpecOf(agentHpa).metrics.find((m) => m.type === 'External')!.external!;
    // The selector is the label Prometheus Operator gives the agent Service's series.
    const agentService = find(objects, 'Service', 'neonpro-ai-agent');
    expect(find(objects, 'ServiceMonitor', 'neonpro-ai-agent').spec).toMatchObject({
      selector: { matchLabels: { 'app.kubernetes.io/name': agentService.metadata.labels!['app.kubernetes.io/name'] } },
    });
    expect(external).toEqual({
      metric: { name: 'agent_run_demand', selector: { matchLabels: { service: agentService.metadata.name } } },
      // AGENT_CONCURRENCY (values.yaml: 4), as the KEDA lag threshold.
      target: { type: 'AverageValue', averageValue: '4' },
    });
    expect(metricTypes(find(objects, 'HorizontalPodAutoscaler', 'neonpro-gateway'))).toEqual({
      cpu: 'Resource',
      socket_connections: 'Pods',
    });
    type Rule = { seriesQuery: string; name: { matches: string; as: string }; metricsQuery: string };
    const adapter = readYaml<{ rules: { custom: Rule[]; external: Rule[] } }>('helm', 'prometheus-adapter-values.yaml');
    expect(adapter.rules.custom.map((r) => r.name.as)).toEqual(['socket_connections']);
    expect(adapter.rules.external.map((r) => r.name.as)).toEqual(['agent_run_demand']);
    // The shared pending count once (max), plus each replica's own running runs (sum).
    const demand = must(adapter.rules.external[0], 'the agent_run_demand rule');
    expect(demand.seriesQuery).toMatch(/^agent_queue_depth\{.*service!=""/);
    expect(demand.metricsQuery).toMatch(
      /^max\(<<\.Series>>\{<<\.LabelMatchers>>\}\) \+ sum\(agent_inflight\{<<\.LabelMatchers>>\}\)$/,
    );
    for (const sm of objects.filter((o) => o.kind === 'ServiceMonitor')) {
      expect(sm.metadata.labels!.release).toBe('kube-prometheus-stack');
    }
    expect(helmNotes(chart, { values: ['examples/prometheus-adapter.yaml'] })).toContain(
      'prometheus-adapter-values.yaml',
    );
  });

  it('prometheus-adapter: the External target follows AGENT_CONCURRENCY, or agent.autoscaling.runsPerReplica', () => {
    const target = (set: Record<string, string>) =>
      (
        find(
          helmTemplate(chart, { values: ['examples/prometheus-adapter.yaml'], set }),
          'HorizontalPodAutoscaler',
          'neonpro-ai-agent',
        ).spec as unknown as HpaSpec
      ).metrics.find((m) => m.type === 'External')!.external!.target.averageValue;
    expect(target({ 'agent.config.AGENT_CONCURRENCY': '8' })).toBe('8');
    expect(target({ 'agent.config.AGENT_CONCURRENCY': '8', 'agent.autoscaling.runsPerReplica': '3' })).toBe('3');
  });

  it('prometheus-adapter refuses to render without the ServiceMonitors, naming the value', () => {
    expect(helmTemplateError(chart, { set: { 'autoscaling.mode': 'prometheus-adapter' } })).toMatch(
      /metrics\.serviceMonitor\.enabled/,
    );
    expect(
      helmTemplateError(chart, {
        set: { 'autoscaling.mode': 'prometheus-adapter', 'metrics.serviceMonitor.enabled': 'false' },
        apiVersions: PROMETHEUS_APIS,
      }),
    ).toMatch(/metrics\.serviceMonitor\.enabled/);
  });

  it('scales the gateway down at most one pod a minute, after a long window', () => {
    for (const o of [{}, { values: ['examples/prometheus-adapter.yaml'] }] as RenderOptions[]) {
      const { scaleDown } = (
        find(helmTemplate(chart, o), 'HorizontalPodAutoscaler', 'neonpro-gateway').spec as unknown as HpaSpec
      ).behavior;
      expect(scaleDown.policies).toEqual([{ type: 'Pods', value: 1, periodSeconds: 60 }]);
      expect(scaleDown.stabilizationWindowSeconds).toBeGreaterThanOrEqual(300);
    }
    // keda with a Prometheus address: a ScaledObject on sockets per pod, same slow scale-down.
    const so = find(
      helmTemplate(chart, { values: ['examples/prod.yaml'], apiVersions: ALL_CRDS }),
      'ScaledObject',
      'neonpro-gateway',
    ).spec as unknown as ScaledObjectSpec;
    expect(so.triggers.find((t) => t.type === 'prometheus')!.metadata.query).toContain('socket_connections');
    expect(so.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown.policies).toEqual([
      { type: 'Pods', value: 1, periodSeconds: 60 },
    ]);
  });
});

describe('exposure, config and policies', () => {
  const withIngress = helmTemplate(chart, { set: { 'ingress.enabled': 'true', 'ingress.host': 'api.example.com' } });

  it('routes the Ingress only to the API port; /metrics has its own port, scraped by the ServiceMonitor', () => {
    const ing = find(withIngress, 'Ingress', 'neonpro-gateway');
    expect(JSON.stringify(ing.spec)).toContain('"port":{"name":"http"}');
    const svc = find(withIngress, 'Service', 'neonpro-gateway').spec as { ports: { name: string; port: number }[] };
    expect(svc.ports.map((p) => `${p.name}:${p.port}`)).toEqual(['http:3000', 'metrics:9464']);
    expect(gatewayEnv(withIngress).METRICS_PORT).toBe('9464');
    const sm = find(helmTemplate(chart, { apiVersions: PROMETHEUS_APIS }), 'ServiceMonitor', 'neonpro-gateway');
    expect(must((sm.spec as { endpoints: { port: string }[] }).endpoints[0], 'an endpoint').port).toBe('metrics');
  });

  it('sets TRUST_PROXY with the ingress (and not without), with the settings kustomize sets', () => {
    const env = gatewayEnv(withIngress);
    expect(env.TRUST_PROXY).toBe('1');
    expect(Object.keys(env)).toEqual(
      expect.arrayContaining([
        'CORS_ORIGINS',
        'RATE_LIMIT_REDIS_FAIL_MODE',
        'SOCKET_PING_INTERVAL_MS',
        'SOCKET_PING_TIMEOUT_MS',
        'SOCKET_MAX_CONNECTIONS',
        'DOCS_ENABLED',
      ]),
    );
    expect(env.DOCS_ENABLED).toBe('false');
    expect(gatewayEnv(helmTemplate(chart)).TRUST_PROXY).toBeUndefined();
  });

  describe('the bundled NATS (the official chart, vendored)', () => {
    const natsLabels = { 'app.kubernetes.io/name': 'nats', 'app.kubernetes.io/instance': 'neonpro' };
    const nats = { ...natsLabels, 'app.kubernetes.io/component': 'nats' };
    const ha = helmTemplate(chart, {
      values: ['examples/dev.yaml'],
      apiVersions: ALL_CRDS,
      set: { 'nats.config.cluster.enabled': 'true', 'nats.promExporter.enabled': 'true' },
    });
    const renders: [string, K8sObject[]][] = [
      ['examples/dev.yaml', helmTemplate(chart, { values: ['examples/dev.yaml'], apiVersions: ALL_CRDS })],
      ['clustered, with the exporter', ha],
    ];
    type Ports = { name?: string; containerPort: number }[];
    const sorted = (labels: Record<string, string>) => JSON.stringify(Object.entries(labels).sort());
    const ingressPorts = (objects: K8sObject[], labels: Record<string, string>) =>
      new Set(
        policiesFor(objects, labels).flatMap((p) =>
          (p.spec.ingress ?? []).flatMap((r) => (r.ports ?? []).map((x) => Number(x.port))),
        ),
      );

    it('is the helm dependency, resolved (helm dependency list: ok)', () => {
      const list = helm(['dependency', 'list', chart]);
      expect(list).toMatch(/^nats\s+~2\.14\.2\s+https:\/\/nats-io\.github\.io\/k8s\/helm\/charts\/\s+ok\s*$/m);
    });

    it('renders the official chart: StatefulSet with config reloader, headless Service, PDB, nats-box, test pod', () => {
      const [, objects] = must(renders[0], 'the first of renders');
      const sts = find(objects, 'StatefulSet', 'neonpro-nats');
      expect(sts.metadata.labels!['helm.sh/chart']).toBe('nats-2.14.2');
      expect(podSpecOf(sts)!.containers.map((c) => c.name)).toEqual(['nats', 'reloader']);
      find(objects, 'Service', 'neonpro-nats-headless');
      find(objects, 'PodDisruptionBudget', 'neonpro-nats');
      find(objects, 'Deployment', 'neonpro-nats-box');
      find(objects, 'Pod', 'neonpro-nats-test-request-reply');
      // Requests and limits on the long-running NATS containers too (server, reloader, nats-box).
      const containers = objects
        .filter((o) => ['StatefulSet', 'Deployment'].includes(o.kind) && !ours(o))
        .flatMap((o) => podSpecOf(o)!.containers.map((c) => ({ id: `${o.metadata.name}/${c.name}`, r: c.resources })));
      expect(containers.map((c) => c.id).sort()).toEqual([
        'neonpro-nats-box/nats-box',
        'neonpro-nats/nats',
        'neonpro-nats/reloader',
      ]);
      const limitless = containers.filter(
        ({ r }) => !r?.requests?.cpu || !r.requests.memory || !r.limits?.cpu || !r.limits.memory,
      );
      expect(limitless.map((c) => c.id)).toEqual([]);
      // The services reach it through the chart's client Service.
      expect(gatewayEnv(objects).NATS_URL).toBe('nats://neonpro-nats:4222');
      expect(helmNotes(chart, { values: ['examples/dev.yaml'] })).toMatch(
        /bundled nats chart 2\.14\.2 \(vendored\)[^\n]*JetStream on file storage[\s\S]*exec deploy\/neonpro-nats-box -- nats stream ls/,
      );
    });

    it.each<Record<string, string>>([{}, { 'nats.fullnameOverride': 'bus' }])(
      'points NATS_URL and the KEDA monitoring endpoint at Services the nats chart renders, with those ports (%j)',
      (set: Record<string, string>) => {
        const objects = helmTemplate(chart, {
          values: ['examples/dev.yaml'],
          apiVersions: [KEDA_API],
          set: { 'nats.enabled': 'true', ...set },
        });
        const servicePorts = (name: string) =>
          (find(objects, 'Service', name).spec as { ports: { port: number }[] }).ports.map((p) => p.port);
        for (const env of Object.values(envOf(objects))) {
          const url = new URL(must(env.NATS_URL, 'NATS_URL'));
          expect(servicePorts(url.hostname)).toContain(Number(url.port));
        }
        const so = find(objects, 'ScaledObject', 'neonpro-ai-agent').spec as unknown as ScaledObjectSpec;
        const endpoint = so.triggers.find((t) => t.type === 'nats-jetstream')!.metadata.natsServerMonitoringEndpoint;
        const [, host, port] = /^([^.]+)\.neonpro\.svc\.cluster\.local:(\d+)$/.exec(
          must(endpoint, 'the monitoring endpoint'),
        )!;
        // The headless Service: KEDA reaches every server of a cluster as <pod>.<Service>.
        const svc = find(objects, 'Service', must(host, 'the monitoring host')).spec as {
          clusterIP?: string;
          ports: { port: number }[];
        };
        expect(svc.clusterIP).toBe('None');
        expect(svc.ports.map((p) => p.port)).toContain(Number(port));
      },
    );

    it('examples/prod.yaml names the Services of the official chart installed as release nats in namespace nats', () => {
      const external = parseManifests(
        helm(['template', 'nats', join(CHART, 'charts', NATS_ARCHIVE), '--namespace', 'nats']),
      );
      const services = Object.fromEntries(
        external
          .filter((o) => o.kind === 'Service')
          .map((o) => [
            `${o.metadata.name}.nats.svc.cluster.local`,
            o.spec as { clusterIP?: string; ports: { port: number }[] },
          ]),
      );
      const objects = helmTemplate(chart, { values: ['examples/prod.yaml'], apiVersions: ALL_CRDS });
      const service = (name: string | undefined) =>
        must(name === undefined ? undefined : services[name], `the Service ${name}`);
      const url = new URL(must(envOf(objects)['ai-agent']?.NATS_URL, 'the agent NATS_URL'));
      expect(service(url.hostname).ports.map((p) => p.port)).toContain(Number(url.port));
      const so = find(objects, 'ScaledObject', 'neonpro-ai-agent').spec as unknown as ScaledObjectSpec;
      const [host, port] =
        so.triggers.find((t) => t.type === 'nats-jetstream')!.metadata.natsServerMonitoringEndpoint?.split(':') ?? [];
      expect(service(host).clusterIP).toBe('None');
      expect(service(host).ports.map((p) => p.port)).toContain(Number(port));
    });

    it('runs JetStream with file storage on a PVC (the services create AGENT_RUNS and AGENT_EVENTS)', () => {
      for (const [name, objects] of renders) {
        const conf = find(objects, 'ConfigMap', 'neonpro-nats-config').data!['nats.conf'];
        expect([name, conf]).toEqual([name, expect.stringMatching(/"jetstream": \{[^}]*"store_dir": "\/data"/)]);
        const sts = find(objects, 'StatefulSet', 'neonpro-nats').spec as {
          volumeClaimTemplates: {
            metadata: { name: string };
            spec: { resources: { requests: { storage: string } } };
          }[];
        };
        expect(sts.volumeClaimTemplates.map((v) => [v.metadata.name, v.spec.resources.requests.storage])).toEqual([
          ['neonpro-nats-js', '10Gi'],
        ]);
      }
    });

    it('refuses memory-stored agent events on the bundled NATS unless its memory store is on', () => {
      const set = { 'nats.enabled': 'true', 'agent.config.AGENT_EVENTS_STORAGE': 'memory' };
      expect(helmTemplateError(chart, { set })).toMatch(/nats\.config\.jetstream\.memoryStore\.enabled/);
      const on = helmTemplate(chart, { set: { ...set, 'nats.config.jetstream.memoryStore.enabled': 'true' } });
      expect(find(on, 'ConfigMap', 'neonpro-nats-config').data!['nats.conf']).not.toContain('"max_memory_store": 0');
    });

    it.each(renders)('admits every port the NATS pods open, from the right peers (%s)', (_name, objects) => {
      const sts = find(objects, 'StatefulSet', 'neonpro-nats');
      const ports = podSpecOf(sts)!.containers.flatMap((c) => (c.ports ?? []) as Ports);
      const admitted = ingressPorts(objects, nats);
      expect(ports.filter((p) => !admitted.has(p.containerPort))).toEqual([]);
      const port = (name: string) => ports.find((p) => p.name === name)?.containerPort;
      // Clients: this release's services, the chart's nats-box and its helm test pod.
      for (const from of [
        { 'app.kubernetes.io/name': 'gateway', 'app.kubernetes.io/instance': 'neonpro' },
        { 'app.kubernetes.io/name': 'ai-agent', 'app.kubernetes.io/instance': 'neonpro' },
        { ...natsLabels, 'app.kubernetes.io/component': 'nats-box' },
        { ...natsLabels, 'app.kubernetes.io/component': 'test-request-reply' },
      ]) {
        expect([from, admitsIngress(objects, nats, from, port('nats')!)]).toEqual([from, true]);
      }
      const policy = JSON.stringify(find(objects, 'NetworkPolicy', 'neonpro-nats').spec);
      expect(policy).toContain(`{"protocol":"TCP","port":${port('monitor')}}`);
      expect(policy).toContain('keda-operator');
      if (port('cluster')) {
        expect(admitsIngress(objects, nats, nats, port('cluster')!)).toBe(true);
      }
    });

    it('opens the cluster and exporter ports when enabled, and admits them', () => {
      const sts = find(ha, 'StatefulSet', 'neonpro-nats');
      expect((sts.spec as { replicas: number }).replicas).toBe(3);
      const ports = podSpecOf(sts)!.containers.flatMap((c) => (c.ports ?? []) as Ports);
      expect(ports.map((p) => p.containerPort).sort()).toEqual([4222, 6222, 7777, 8222]);
      expect(admitsIngress(ha, nats, nats, 6222)).toBe(true);
      expect(ingressPorts(ha, nats).has(7777)).toBe(true);
    });

    it('lets the nats-box and test pods reach the NATS client port, and nothing else', () => {
      for (const component of ['nats-box', 'test-request-reply']) {
        const policies = policiesFor(must(renders[0], 'the first of renders')[1], {
          ...natsLabels,
          'app.kubernetes.io/component': component,
        });
        const egress = policies.flatMap((p) => p.spec.egress ?? []);
        const toNats = egress.filter((r) =>
          (r.to ?? []).some((peer) => sorted(peer.podSelector?.matchLabels ?? {}) === sorted(nats)),
        );
        expect([component, toNats.flatMap((r) => (r.ports ?? []).map((x) => x.port))]).toEqual([component, [4222]]);
        expect([component, policies.flatMap((p) => p.spec.ingress ?? [])]).toEqual([component, []]);
      }
    });
  });

  it('flags a pod left under the default deny without a policy (the check can fail)', () => {
    const objects = helmTemplate(chart, { values: ['examples/dev.yaml'] });
    const without = (policy: string) =>
      unadmittedPods(objects.filter((o) => !(o.kind === 'NetworkPolicy' && o.metadata.name === policy))).join('\n');
    expect(without('neonpro-nats')).toMatch(/StatefulSet\/neonpro-nats: behind a Service/);
    expect(without('neonpro-nats-box')).toMatch(/Deployment\/neonpro-nats-box: covered by/);
    expect(without('neonpro-nats-test')).toMatch(/Pod\/neonpro-nats-test-request-reply: covered by/);
  });

  it('renders extraEgress CIDRs and overridden DNS selectors into every egress policy', () => {
    const objects = helmTemplate(chart, {
      set: {
        'networkPolicy.extraEgress[0].cidr': '10.20.0.0/16',
        'networkPolicy.extraEgress[0].ports[0]': '6379',
        'networkPolicy.dns.podSelector.k8s-app': 'node-local-dns',
      },
    });
    for (const name of ['neonpro-gateway', 'neonpro-ai-agent', 'neonpro-db-migrate']) {
      const spec = JSON.stringify(find(objects, 'NetworkPolicy', name).spec);
      expect([name, spec.includes('10.20.0.0/16'), spec.includes('node-local-dns')]).toEqual([name, true, true]);
    }
  });
});

describe('drain, migrations and hygiene values', () => {
  it('gives agents grace = drain + 15 s, a drain covering the longest run, and no preStop sleep', () => {
    const d = find(helmTemplate(chart), 'Deployment', 'neonpro-ai-agent');
    const spec: PodSpec = podSpecOf(d)!;
    expect(must(spec.containers[0], 'spec.containers[0]').lifecycle).toBeUndefined();
    expect(spec.terminationGracePeriodSeconds).toBe(360 + 15);
    expect(helmTemplateError(chart, { set: { 'agent.config.AGENT_DRAIN_TIMEOUT_MS': '20000' } })).toMatch(
      /longest allowed run/,
    );
    expect(helmTemplateError(chart, { set: { 'agent.terminationGracePeriodSeconds': '360' } })).toMatch(/\+ 15 s/);
  });

  it('migrates in a pre-install/pre-upgrade hook with its own connection string key', () => {
    const job = find(helmTemplate(chart), 'Job', 'neonpro-db-migrate');
    expect(job.metadata.annotations!['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    const env = must(podSpecOf(job)!.containers[0], 'the migration container').env!;
    expect(env.find((e) => e.name === 'DATABASE_MIGRATION_URL')!.valueFrom!.secretKeyRef).toEqual({
      name: 'neonpro-database-migration',
      key: 'DATABASE_MIGRATION_URL',
    });
    // The owner's credentials live in a Secret of their own; the Job reads nothing else.
    expect(env.some((e) => e.name === 'DATABASE_URL')).toBe(false);
  });

  it('pins image digests, honours serviceAccount.* and the security context values', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const objects = helmTemplate(chart, {
      set: {
        'gateway.image.digest': digest,
        'agent.serviceAccount.create': 'false',
        'agent.serviceAccount.name': 'llm-identity',
        'gateway.serviceAccount.annotations.iam\\.example\\.com/role': 'gw',
        'podSecurityContext.runAsUser': '20002',
      },
    });
    expect(
      must(podSpecOf(find(objects, 'Deployment', 'neonpro-gateway'))!.containers[0], 'the gateway container').image,
    ).toBe(`neonpro/gateway:0.1.0@${digest}`);
    expect(podSpecOf(find(objects, 'Deployment', 'neonpro-ai-agent'))!.serviceAccountName).toBe('llm-identity');
    expect(objects.some((o) => o.kind === 'ServiceAccount' && o.metadata.name === 'neonpro-ai-agent')).toBe(false);
    expect(find(objects, 'ServiceAccount', 'neonpro-gateway').metadata.annotations).toEqual({
      'iam.example.com/role': 'gw',
    });
    expect(podSpecOf(find(objects, 'Deployment', 'neonpro-gateway'))!.securityContext!.runAsUser).toBe(20002);
    expect(helmTemplateError(chart, { set: { 'agent.serviceAccount.create': 'false' } })).toMatch(
      /serviceAccount.name/,
    );
  });

  it('lists every Secret the release reads in NOTES and in the README quick start', () => {
    const notes = helmNotes(chart, { set: { 'llm.provider': 'openai' } });
    const readme = chartFile('README.md');
    for (const [secret, keys] of Object.entries({
      'neonpro-database': ['DATABASE_URL'],
      'neonpro-database-migration': ['DATABASE_MIGRATION_URL'],
      'neonpro-supabase': ['SUPABASE_URL', 'SUPABASE_ANON_KEY'],
      'neonpro-redis': ['REDIS_URL'],
      'neonpro-llm': ['OPENAI_API_KEY'],
    })) {
      expect([secret, notes.includes(secret)]).toEqual([secret, true]);
      const create = readme.split('\n').find((l) => l.includes(`create secret generic ${secret} `));
      const block = create ? readme.slice(readme.indexOf(create), readme.indexOf(create) + 400) : '';
      for (const k of keys) {
        expect([secret, k, notes.includes(k), block.includes(`--from-literal=${k}=`)]).toEqual([secret, k, true, true]);
      }
    }
  });

  it('ships a dashboard ConfigMap for the Grafana sidecar with every panel group', () => {
    const cm = find(helmTemplate(chart), 'ConfigMap', 'neonpro-dashboard');
    expect(cm.metadata.labels!.grafana_dashboard).toBe('1');
    const dash = JSON.parse(must(cm.data?.['neonpro.json'], 'neonpro.json')) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const exprs = dash.panels.flatMap((p) => p.targets.map((t) => t.expr)).join('\n');
    for (const metric of [
      'http_requests_total',
      'agent_runs_total',
      'agent_queue_depth',
      'kube_horizontalpodautoscaler_status_current_replicas',
      '_breaker_state',
      'gateway_rate_limit_rejections_total',
      'socket_connections',
    ]) {
      expect([metric, exprs.includes(metric)]).toEqual([metric, true]);
    }
  });

  it('alerts on inactive scaling, open breakers, queue lag at max, 5xx, agent errors and chat p99', () => {
    const rule = find(helmTemplate(chart, { apiVersions: PROMETHEUS_APIS }), 'PrometheusRule', 'neonpro-alerts');
    const rules = (rule.spec as { groups: { rules: { alert: string; expr: string; for: string }[] }[] }).groups.flatMap(
      (g) => g.rules,
    );
    expect(rules.map((r) => r.alert).sort()).toEqual([
      'NeonProAgentQueueGrowingAtMaxReplicas',
      'NeonProAgentRunErrors',
      'NeonProBreakerOpen',
      'NeonProChatLatencyP99',
      'NeonProHigh5xxRatio',
      'NeonProScalingInactive',
    ]);
    const byName = new Map(rules.map((r) => [r.alert, r]));
    const alert = (name: string) => must(byName.get(name), name);
    expect(alert('NeonProScalingInactive').expr).toContain('condition="ScalingActive",status="false"');
    expect(alert('NeonProBreakerOpen').for).toBe('5m');
    expect(alert('NeonProHigh5xxRatio').expr).toMatch(/> 0\.01$/);
  });
});

describe('the CRD schema check itself', () => {
  it('rejects a ScaledObject and a PrometheusRule the CRDs would refuse', () => {
    const objects = helmTemplate(chart, { apiVersions: ALL_CRDS });
    const so = structuredClone(find(objects, 'ScaledObject', 'neonpro-ai-agent'));
    (so.spec as { minReplicaCount: unknown }).minReplicaCount = 'two';
    expect(() => validateObject(so)).toThrow(/minReplicaCount/);
    const rule = structuredClone(find(objects, 'PrometheusRule', 'neonpro-alerts'));
    (rule.spec as { groups: unknown }).groups = 'alerts';
    expect(() => validateObject(rule)).toThrow(/groups/);
  });
});

describe('Chart.lock', () => {
  it('is in sync with Chart.yaml (helm checks the digest before fetching; a tampered one is refused)', () => {
    const run = (lock: string): string => {
      const { dir, cleanup: done } = chartCopy();
      try {
        writeFileSync(join(dir, 'Chart.lock'), lock);
        execFileSync(HELM, ['dependency', 'build', dir, '--skip-refresh'], { stdio: 'pipe', encoding: 'utf8' });
        return 'built';
      } catch (err) {
        return String((err as { stderr?: string }).stderr);
      } finally {
        done();
      }
    };
    const lock = readFileSync(join(CHART, 'Chart.lock'), 'utf8');
    const digest = (parseYaml(lock) as { digest: string }).digest;
    expect(run(lock)).not.toMatch(/out of sync/);
    const tampered = lock.replace(digest, `sha256:${'0'.repeat(64)}`);
    expect(run(tampered)).toMatch(/out of sync/);
  });
});

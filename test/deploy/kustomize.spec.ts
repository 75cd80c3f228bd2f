import { type K8sObject, OVERLAYS, podSpecOf, renderOverlay, validateObject } from './support/k8s.js';
import { containerEnv, hygieneProblems } from './support/policy.js';

const rendered = Object.fromEntries(OVERLAYS.map((o) => [o, renderOverlay(o)])) as Record<string, K8sObject[]>;

function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`${kind}/${name} not rendered`);
  return o;
}

function envByService(objects: K8sObject[]): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const d of objects.filter((o) => o.kind === 'Deployment')) {
    out[d.metadata.labels!['app.kubernetes.io/name']] = containerEnv(d, objects).values;
  }
  return out;
}

describe.each(OVERLAYS)('kustomize overlay %s', (overlay) => {
  const objects = rendered[overlay];

  it('renders the gateway, the agent, their autoscalers, budgets and the migration Job', () => {
    for (const name of ['neonpro-gateway', 'neonpro-ai-agent']) {
      for (const kind of [
        'Deployment',
        'Service',
        'ServiceAccount',
        'HorizontalPodAutoscaler',
        'PodDisruptionBudget',
      ]) {
        expect(find(objects, kind, name).metadata.namespace).toBe(overlay === 'prod' ? 'neonpro' : 'neonpro-dev');
      }
    }
    expect(find(objects, 'Job', 'neonpro-db-migrate')).toBeDefined();
  });

  it('validates every object against the Kubernetes and CRD schemas', () => {
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

  it('meets the pod hygiene policy in every workload', () => {
    const workloads = objects.filter((o) => podSpecOf(o));
    expect(workloads.length).toBeGreaterThanOrEqual(3);
    const env = envByService(objects);
    expect(workloads.flatMap((w) => hygieneProblems(w, env))).toEqual([]);
  });

  it('keeps the drain inside the grace period with the configured drain timeouts', () => {
    const env = envByService(objects);
    // The ConfigMaps set them explicitly, so the check above used the values that ship.
    expect(env.gateway.SHUTDOWN_TIMEOUT_MS).toBeDefined();
    expect(env['ai-agent'].AGENT_DRAIN_TIMEOUT_MS).toBeDefined();
  });

  it('never mounts service account tokens', () => {
    for (const sa of objects.filter((o) => o.kind === 'ServiceAccount')) {
      expect([sa.metadata.name, sa.automountServiceAccountToken]).toEqual([sa.metadata.name, false]);
    }
  });

  it('never ships a Secret object: secrets are referenced by name only', () => {
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    const job = find(objects, 'Job', 'neonpro-db-migrate');
    const c = podSpecOf(job)!.containers[0];
    expect(c.command).toEqual(['node', 'dist/libs/database/src/cli/migrate.js']);
    expect(c.image).toMatch(/^neonpro\/gateway:/);
    // The owner's credentials reach the migration Job only, from their own Secret.
    expect(c.env!.find((e) => e.name === 'DATABASE_MIGRATION_URL')!.valueFrom!.secretKeyRef).toEqual({
      name: 'neonpro-database-migration',
      key: 'DATABASE_MIGRATION_URL',
    });
    expect(c.env!.find((e) => e.name === 'DATABASE_URL')).toBeUndefined();
  });

  it('makes the migration Job safe to re-run on every deploy', () => {
    const job = find(objects, 'Job', 'neonpro-db-migrate');
    const spec = job.spec as { ttlSecondsAfterFinished?: number; backoffLimit?: number };
    expect(spec.ttlSecondsAfterFinished).toBeGreaterThan(0);
    expect(spec.backoffLimit).toBeGreaterThan(0);
    expect(job.metadata.annotations!['argocd.argoproj.io/hook-delete-policy']).toBe('BeforeHookCreation');
  });

  it('scales the gateway on CPU and the agent on CPU and queue depth, fast up and slow down', () => {
    const gw = find(objects, 'HorizontalPodAutoscaler', 'neonpro-gateway').spec as {
      metrics: { type: string; resource?: { name: string } }[];
    };
    expect(gw.metrics.map((m) => `${m.type}:${m.resource?.name}`)).toEqual(['Resource:cpu']);
    const agent = find(objects, 'HorizontalPodAutoscaler', 'neonpro-ai-agent').spec as {
      scaleTargetRef: { kind: string; name: string };
      metrics: { type: string }[];
      behavior: Record<
        'scaleUp' | 'scaleDown',
        { stabilizationWindowSeconds: number; policies: { periodSeconds: number }[] }
      >;
    };
    expect(agent.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: 'neonpro-ai-agent' });
    expect(agent.metrics.map((m) => m.type).sort()).toEqual(['Pods', 'Resource']);
    const { scaleUp, scaleDown } = agent.behavior;
    expect(scaleUp.stabilizationWindowSeconds).toBeLessThan(scaleDown.stabilizationWindowSeconds);
    expect(Math.max(...scaleUp.policies.map((p) => p.periodSeconds))).toBeLessThan(
      Math.min(...scaleDown.policies.map((p) => p.periodSeconds)),
    );
  });

  it('has a disruption budget selecting each Deployment', () => {
    for (const d of objects.filter((o) => o.kind === 'Deployment' && o.metadata.name.startsWith('neonpro-'))) {
      const pdb = find(objects, 'PodDisruptionBudget', d.metadata.name);
      expect((pdb.spec as { selector: unknown }).selector).toEqual((d.spec as { selector: unknown }).selector);
    }
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
    expect(agent.ingress[0].from![0].namespaceSelector!.matchLabels).toEqual({
      'kubernetes.io/metadata.name': 'monitoring',
    });

    // Egress ports: DNS, NATS, Redis, Postgres/Supabase, HTTPS (Supabase API and LLM APIs), Ollama.
    const allowed = new Set([53, 4222, 6379, 5432, 6543, 443, 11434]);
    for (const p of policies) {
      const egress = ((p.spec as { egress?: Rule[] }).egress ?? []).flatMap((r) => r.ports ?? []);
      for (const port of egress)
        expect([p.metadata.name, allowed.has(Number(port.port))]).toEqual([p.metadata.name, true]);
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

  it('exposes the gateway through ingress-nginx with websocket/SSE friendly settings', () => {
    const ing = find(objects, 'Ingress', 'neonpro-gateway');
    const a = ing.metadata.annotations!;
    expect(Number(a['nginx.ingress.kubernetes.io/proxy-read-timeout'])).toBeGreaterThanOrEqual(3600);
    expect(a['nginx.ingress.kubernetes.io/proxy-buffering']).toBe('off');
    // Affinity is opt-in (ingress-cookie-affinity component), not part of either overlay.
    expect(a['nginx.ingress.kubernetes.io/affinity']).toBeUndefined();
  });
});

describe('overlay differences', () => {
  it('dev runs NATS (JetStream) and Redis in the namespace; prod scrapes metrics instead', () => {
    const dev = rendered.dev;
    const nats = find(dev, 'StatefulSet', 'nats');
    expect(podSpecOf(nats)!.containers[0].image).toMatch(/^nats:\d+\.\d+\.\d+/);
    expect(podSpecOf(nats)!.containers[0].command ?? (nats.spec as never)).toBeDefined();
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
    expect(prod.some((o) => o.metadata.name === 'nats' || o.metadata.name === 'redis')).toBe(false);
  });

  it('dev logs at debug through a ConfigMap merge, without repeating the base', () => {
    const env = envByService(rendered.dev);
    expect(env.gateway.LOG_LEVEL).toBe('debug');
    expect(envByService(rendered.prod).gateway.LOG_LEVEL).toBe('info');
  });
});

describe('the policy check itself', () => {
  it('reports a container without limits, probes or a read-only root filesystem', () => {
    const d = structuredClone(find(rendered.prod, 'Deployment', 'neonpro-gateway'));
    const c = podSpecOf(d)!.containers[0];
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
    (podSpecOf(d)!.containers[0].ports![0] as { containerPort: unknown }).containerPort = 'http';
    expect(() => validateObject(d)).toThrow(/containerPort/);
  });
});

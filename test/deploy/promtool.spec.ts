import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { must } from '@neonpro/testing';
import { CHART } from './support/chart.js';
import { PROMETHEUS_APIS, helmTemplate } from './support/helm.js';
import { type K8sObject, ROOT, renderOverlay } from './support/k8s.js';
import { PROMTOOL, promtool } from './support/promtool.js';

// The alerts and the dashboard queries, as rendered by the chart (defaults and examples/prod.yaml)
// and by the kustomize prod overlay, checked by Prometheus's own parser and rule unit tests.
interface Rule {
  alert?: string;
  record?: string;
  expr: string;
}
type Groups = { name: string; rules: Rule[] }[];

const only = (objects: K8sObject[], kind: string, name: string): K8sObject => {
  const found = objects.filter((o) => o.kind === kind && o.metadata.name === name);
  const [first] = found;
  if (first === undefined || found.length !== 1) {
    throw new Error(`${found.length} ${kind}/${name} rendered`);
  }
  return first;
};
const groupsOf = (objects: K8sObject[]): Groups =>
  (only(objects, 'PrometheusRule', 'neonpro-alerts').spec as { groups: Groups }).groups;
/** Every dashboard target, with the Grafana $namespace variable resolved, as recording rules. */
const dashboardGroups = (objects: K8sObject[]): Groups => {
  const cm = only(objects, 'ConfigMap', 'neonpro-dashboard');
  const dash = JSON.parse(must(Object.values(cm.data ?? {})[0], 'the dashboard JSON')) as {
    panels: { targets?: { expr: string }[] }[];
  };
  const exprs = dash.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  return [
    {
      name: 'neonpro.dashboard',
      rules: exprs.map((expr, i) => ({
        record: `neonpro:dashboard_target_${i}`,
        expr: expr.replaceAll('$namespace', 'neonpro'),
      })),
    },
  ];
};

const prod = renderOverlay('prod');
const sources: [string, K8sObject[]][] = [
  ['helm, values.yaml', helmTemplate(CHART, { apiVersions: PROMETHEUS_APIS })],
  ['helm, examples/prod.yaml', helmTemplate(CHART, { values: ['examples/prod.yaml'], apiVersions: PROMETHEUS_APIS })],
  ['kustomize prod overlay', prod],
];

/** A scratch dir holding rules.yaml (and the unit tests when asked); removed after `fn`. */
function withRules<T>(groups: Groups, fn: (dir: string) => T, unitTests = false): T {
  const dir = mkdtempSync(join(tmpdir(), 'neonpro-promtool-'));
  try {
    writeFileSync(join(dir, 'rules.yaml'), stringify({ groups }, { lineWidth: 0 }));
    if (unitTests) {
      cpSync(join(ROOT, 'test', 'deploy', 'fixtures', 'promtool', 'alerts.test.yaml'), join(dir, 'alerts.test.yaml'));
    }
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe(`promtool (${PROMTOOL})`, () => {
  it('is a real promtool', () => {
    expect(promtool(['--version'])).toMatch(/^promtool, version \d+\.\d+/);
  });

  it.each(sources)('check rules passes for the PrometheusRule groups (%s)', (_name, objects) => {
    const groups = groupsOf(objects);
    const out = withRules(groups, (dir) => promtool(['check', 'rules', 'rules.yaml'], dir));
    expect(out).toContain(`SUCCESS: ${groups.flatMap((g) => g.rules).length} rules found`);
  });

  it.each(sources)('check rules parses every dashboard query (%s)', (_name, objects) => {
    const groups = dashboardGroups(objects);
    const { rules } = must(groups[0], 'the dashboard group');
    expect(rules.length).toBeGreaterThanOrEqual(10);
    const out = withRules(groups, (dir) => promtool(['check', 'rules', 'rules.yaml'], dir));
    expect(out).toContain(`SUCCESS: ${rules.length} rules found`);
  });

  it.each(sources)(
    'test rules: breaker open > 5 min, queue growing at max replicas, 5xx > 1 % fire when they should (%s)',
    (_name, objects) => {
      const out = withRules(groupsOf(objects), (dir) => promtool(['test', 'rules', 'alerts.test.yaml'], dir), true);
      expect(out).toContain('SUCCESS');
    },
  );

  it('fails on a query Prometheus cannot parse, and on an alert the unit tests contradict (the checks can fail)', () => {
    const groups = groupsOf(prod);
    const broken = structuredClone(groups);
    must(must(broken[0], 'a rule group').rules[0], 'a rule').expr = 'sum(rate(http_requests_total[5m])';
    expect(() => withRules(broken, (dir) => promtool(['check', 'rules', 'rules.yaml'], dir))).toThrow(/parse error/);
    // A 5xx threshold of 5 % instead of 1 %: the 2 % case must no longer fire.
    const lax = structuredClone(groups);
    const rule = lax.flatMap((g) => g.rules).find((r) => r.alert === 'NeonProHigh5xxRatio')!;
    rule.expr = rule.expr.replace(/> 0\.01$/, '> 0.05');
    expect(rule.expr).toMatch(/> 0\.05$/);
    expect(() => withRules(lax, (dir) => promtool(['test', 'rules', 'alerts.test.yaml'], dir), true)).toThrow(
      /alertname: NeonProHigh5xxRatio, time: 15m/,
    );
  });
});

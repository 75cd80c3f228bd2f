import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { parse as parseYaml } from 'yaml';
import { extractTarEntry } from '../../tools/chart/helm.mjs';
import { CHART, NATS_ARCHIVE, chartFile, templateFiles, withoutComments } from './support/chart.js';
import { mergeValues, readYaml } from './support/k8s.js';
import { must } from '@neonpro/testing';

const ajv = new Ajv({ allErrors: true, strict: true });
addFormats.default(ajv);
const validate = ajv.compile(JSON.parse(chartFile('values.schema.json')) as object);
const defaults = readYaml<Record<string, unknown>>('helm', 'neonpro', 'values.yaml');
const examples = readdirSync(join(CHART, 'examples')).filter((f) => f.endsWith('.yaml'));

function errorsOf(values: unknown): string[] {
  return validate(values) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

/** values.yaml with `patch` merged in the way Helm merges a -f file. */
function withPatch(patch: Record<string, unknown>): unknown {
  return mergeValues(structuredClone(defaults), patch);
}

describe('helm chart values', () => {
  it('values.yaml validates against values.schema.json', () => {
    expect(errorsOf(defaults)).toEqual([]);
  });

  it('ships example values files', () => {
    expect(examples.length).toBeGreaterThanOrEqual(2);
  });

  it.each(examples)('examples/%s validates (merged over values.yaml, as helm does)', (file) => {
    const example = readYaml<Record<string, unknown>>('helm', 'neonpro', 'examples', file);
    expect(errorsOf(mergeValues(structuredClone(defaults), example))).toEqual([]);
  });

  it.each([
    ['a latest tag', { gateway: { image: { tag: 'latest' } } }, /tag/],
    ['a container without limits', { agent: { resources: { limits: null } } }, /limits/],
    ['an env var the agent does not read', { agent: { config: { AGENT_CONCURRENCYY: 4 } } }, /additional/],
    ['an unknown LLM provider', { llm: { provider: 'gpt' } }, /provider/],
    ['a non-NATS url', { natsConnection: { url: 'http://nats:4222' } }, /url/],
    ['an unknown autoscaling mode', { autoscaling: { mode: 'hpa' } }, /mode/],
    ['a digest that is not sha256', { gateway: { image: { digest: 'latest' } } }, /digest/],
    ['an extraEgress entry without ports', { networkPolicy: { extraEgress: [{ cidr: '10.0.0.0/8' }] } }, /ports/],
    ['TLS without a host', { ingress: { enabled: true, tls: { enabled: true, secretName: 'x' } } }, /host/],
    ['an unknown top-level key', { replicaCount: 3 }, /additional/],
  ])('rejects %s', (_what, patch, message) => {
    const errors = errorsOf(withPatch(patch));
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.join('\n')).toMatch(message);
  });

  it('documents every top-level values key in the chart README', () => {
    const readme = chartFile('README.md');
    const missing = Object.keys(defaults).filter((k) => !readme.includes(`\`${k}`));
    expect(missing).toEqual([]);
  });
});

describe('helm chart templates (static; helm-render.spec.ts runs helm)', () => {
  const files = templateFiles().filter((f) => /\.(yaml|tpl|txt)$/.test(f));

  it.each(files.map((f) => relative(CHART, f)))('%s has balanced template actions and blocks', (file) => {
    const text = readFileSync(join(CHART, file), 'utf8');
    expect(text.split('{{').length).toBe(text.split('}}').length);
    const actions = [...withoutComments(text).matchAll(/\{\{-?\s*(\w+)/g)].map((m) => must(m[1], 'a captured name'));
    const opened = actions.filter((a) => ['if', 'range', 'with', 'define', 'block'].includes(a)).length;
    const closed = actions.filter((a) => a === 'end').length;
    expect(closed).toBe(opened);
  });

  it('declares the official nats chart as an optional dependency in a fixed range, locked and vendored', () => {
    const chart = parseYaml(chartFile('Chart.yaml')) as {
      dependencies: { name: string; version: string; condition: string; repository: string }[];
    };
    expect(chart.dependencies).toEqual([
      {
        name: 'nats',
        version: '~2.14.2',
        condition: 'nats.enabled',
        repository: 'https://nats-io.github.io/k8s/helm/charts/',
      },
    ]);
    const lock = parseYaml(chartFile('Chart.lock')) as { dependencies: { name: string; version: string }[] };
    expect(lock.dependencies).toEqual([
      { name: 'nats', version: '2.14.2', repository: 'https://nats-io.github.io/k8s/helm/charts/' },
    ]);
    // charts/ holds exactly the locked version, packaged from the official sources, so the chart
    // installs offline and every test render includes it.
    expect(readdirSync(join(CHART, 'charts'))).toEqual([NATS_ARCHIVE]);
    const tar = gunzipSync(readFileSync(join(CHART, 'charts', NATS_ARCHIVE)));
    const vendored = parseYaml(extractTarEntry(tar, 'nats/Chart.yaml').toString()) as Record<string, string>;
    expect(vendored).toMatchObject({ name: 'nats', version: '2.14.2', home: 'http://github.com/nats-io/k8s' });
    expect(extractTarEntry(tar, 'nats/templates/stateful-set.yaml').length).toBeGreaterThan(0);
  });

  it('has NOTES.txt and a helm test hook that calls /health/ready', () => {
    expect(chartFile('templates', 'NOTES.txt')).toContain('helm test');
    const test = chartFile('templates', 'tests', 'test-ready.yaml');
    expect(test).toMatch(/helm\.sh\/hook: test/);
    expect(test).toContain('/health/ready');
  });

  it('runs migrations as a pre-install/pre-upgrade hook from the gateway image', () => {
    const job = chartFile('templates', 'migrate-job.yaml');
    expect(job).toMatch(/helm\.sh\/hook: pre-install,pre-upgrade/);
    expect(job).toMatch(/before-hook-creation/);
    expect(job).toContain('command: [node, dist/libs/database/src/cli/migrate.js]');
    expect(job).toContain('.Values.gateway.image');
  });

  it('documents in the README how helm lint --strict runs in the tests', () => {
    expect(chartFile('README.md')).toMatch(/helm lint --strict/);
  });
});

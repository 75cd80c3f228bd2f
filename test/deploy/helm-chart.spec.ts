import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { parse as parseYaml, stringify } from 'yaml';
import { CHART, chartFile, templateFiles, withoutComments } from './support/chart.js';
import { mergeValues, onPath, parseManifests, podSpecOf, readYaml, validateObject } from './support/k8s.js';
import { hygieneProblems } from './support/policy.js';

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

describe('helm chart templates (static: helm is not run here)', () => {
  const files = templateFiles().filter((f) => /\.(yaml|tpl|txt)$/.test(f));

  it.each(files.map((f) => relative(CHART, f)))('%s has balanced template actions and blocks', (file) => {
    const text = readFileSync(join(CHART, file), 'utf8');
    expect(text.split('{{').length).toBe(text.split('}}').length);
    const actions = [...withoutComments(text).matchAll(/\{\{-?\s*(\w+)/g)].map((m) => m[1]);
    const opened = actions.filter((a) => ['if', 'range', 'with', 'define', 'block'].includes(a)).length;
    const closed = actions.filter((a) => a === 'end').length;
    expect(closed).toBe(opened);
  });

  it('declares the official nats chart as an optional dependency, not vendored', () => {
    const chart = parseYaml(chartFile('Chart.yaml')) as {
      dependencies: { name: string; condition: string; repository: string }[];
    };
    expect(chart.dependencies).toEqual([
      expect.objectContaining({
        name: 'nats',
        condition: 'nats.enabled',
        repository: expect.stringMatching(/^https:\/\//),
      }),
    ]);
    expect(readdirSync(CHART)).not.toContain('charts');
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

  it('mentions in the README that helm checks need helm on PATH', () => {
    expect(chartFile('README.md')).toMatch(/helm lint --strict/);
  });
});

// Rendering needs the helm binary. Without it there is nothing to assert, so no test is created
// (a skipped check must not count as a pass); the static checks above still run.
if (onPath('helm')) {
  describe('helm lint and template (helm on PATH)', () => {
    // The optional nats dependency cannot be fetched offline; lint a copy without it (nats is
    // disabled by default, and its values are then just unused).
    const dir = mkdtempSync(join(tmpdir(), 'neonpro-chart-'));
    const chartCopy = join(dir, 'neonpro');
    cpSync(CHART, chartCopy, { recursive: true });
    const meta = parseYaml(readFileSync(join(chartCopy, 'Chart.yaml'), 'utf8')) as Record<string, unknown>;
    delete meta.dependencies;
    writeFileSync(join(chartCopy, 'Chart.yaml'), stringify(meta));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    const valueSets = [undefined, ...examples];
    it.each(valueSets.map((v) => v ?? 'values.yaml'))('helm lint --strict with %s', (name) => {
      const args = ['lint', '--strict', chartCopy];
      if (name !== 'values.yaml') args.push('-f', join(chartCopy, 'examples', basename(name)));
      execFileSync('helm', args, { stdio: 'pipe' });
    });

    it.each(valueSets.map((v) => v ?? 'values.yaml'))('helm template with %s: valid objects, pod hygiene', (name) => {
      const args = ['template', 'neonpro', chartCopy, '--namespace', 'neonpro'];
      if (name !== 'values.yaml') args.push('-f', join(chartCopy, 'examples', basename(name)));
      const objects = parseManifests(execFileSync('helm', args, { encoding: 'utf8' }));
      for (const o of objects) validateObject(o);
      expect(objects.filter((o) => podSpecOf(o)).flatMap((o) => hygieneProblems(o))).toEqual([]);
    });
  });
} else {
  console.log('helm-chart.spec: helm is not on PATH; helm lint/template tests were not created.');
}

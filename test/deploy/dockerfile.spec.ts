import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentConfigSchema, gatewayConfigSchema } from '@neonpro/config';
import { ROOT } from './support/k8s.js';
import { must } from '@neonpro/testing';

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  from: string;
  name?: string;
  body: Instruction[];
}

/** Joins continuation lines, drops comments, splits into FROM-delimited stages. */
function parseDockerfile(text: string): { args: Record<string, string>; stages: Stage[] } {
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of lines) {
    const [op = '', ...rest] = line.split(/\s+/);
    const ins = { op: op.toUpperCase(), args: rest.join(' ') };
    if (ins.op === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args)!;
      const from = must(m[1], 'the base image').replace(
        /\$\{(\w+)\}/g,
        (_s, name: string) => args[name] ?? `\${${name}}`,
      );
      stages.push({ from, name: m[2], body: [] });
    } else if (stages.length === 0 && ins.op === 'ARG') {
      const [k = '', v = ''] = ins.args.split('=');
      args[k] = v;
    } else {
      stages.at(-1)?.body.push(ins);
    }
  }
  return { args, stages };
}

const SERVICES = [
  { svc: 'gateway', port: gatewayConfigSchema.parse({}).PORT },
  { svc: 'ai-agent', port: agentConfigSchema.parse({}).PORT },
];

const ops = (stage: Stage, op: string): string[] => stage.body.filter((i) => i.op === op).map((i) => i.args);

describe('Dockerfile (both services, one target each)', () => {
  const { stages } = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
  const stage = (name: string): Stage => stages.find((s) => s.name === name)!;

  it('is multi-stage: deps, build, production deps, a shared runtime, then one target per service', () => {
    expect(stages.map((s) => s.name)).toEqual(['deps', 'build', 'prod-deps', 'runtime', ...SERVICES.map((s) => s.svc)]);
    expect(ops(stage('deps'), 'RUN').join()).toMatch(/npm ci\b/);
    expect(ops(stage('build'), 'RUN').join()).toMatch(/npm run build/);
    expect(ops(stage('prod-deps'), 'RUN').join()).toMatch(/npm ci --omit=dev/);
  });

  it('pins every base image to an exact Node 24 release (no latest, no floating major)', () => {
    for (const s of stages.slice(0, 4)) {
      expect(s.from).toMatch(/^node:24\.\d+\.\d+-[a-z]+-slim(@sha256:[0-9a-f]{64})?$/);
    }
  });

  it('copies no .env file, key or secret anywhere, and sets no secret in ENV/ARG', () => {
    for (const s of stages) {
      for (const c of [...ops(s, 'COPY'), ...ops(s, 'ADD')]) {
        expect(c).not.toMatch(/\.env|\.pem|\.key\b|secret|id_rsa|npmrc/i);
      }
      for (const e of [...ops(s, 'ENV'), ...ops(s, 'ARG')]) {
        expect(e).not.toMatch(/SECRET|PASSWORD|TOKEN|API_KEY|DATABASE_URL/i);
      }
    }
  });

  describe.each(SERVICES)('target $svc', ({ svc, port }) => {
    const target = stage(svc);
    // What the image holds: the shared runtime stage plus the target's own instructions.
    const image: Stage = { from: 'runtime', body: [...stage('runtime').body, ...target.body] };

    it('builds on the shared runtime stage', () => {
      expect(target.from).toBe('runtime');
    });

    it('runs as a non-root numeric user', () => {
      const users = ops(image, 'USER');
      expect(users).toHaveLength(1);
      const [uid, gid] = must(users[0], 'the USER').split(':').map(Number);
      expect(uid).toBeGreaterThan(0);
      expect(gid).toBeGreaterThan(0);
    });

    it('copies only production node_modules and compiled code into the runtime', () => {
      const copies = ops(image, 'COPY');
      expect(copies).toContain('--from=prod-deps /app/node_modules ./node_modules');
      expect(copies.some((c) => c.includes('--from=deps'))).toBe(false);
      expect(copies.some((c) => /^\.\s|\s\.\s/.test(c) || c.startsWith('. '))).toBe(false);
      for (const c of copies) {
        expect(c).not.toMatch(/libs\/testing|tools|\btest\b|\.spec\./);
      }
      expect(copies).toContain(`--from=build /app/dist/services/${svc} ./dist/services/${svc}`);
      // No other service's code.
      expect(copies.filter((c) => c.includes('/dist/services/'))).toHaveLength(1);
    });

    it('starts node directly as PID 1 (exec form) on the file the build emits', () => {
      expect(ops(image, 'CMD')).toHaveLength(1);
      const cmd = JSON.parse(must(ops(image, 'CMD')[0], 'the CMD')) as string[];
      expect(cmd[0]).toBe('node');
      expect(cmd.at(-1)).toBe(`dist/services/${svc}/src/main.js`);
      // Between them only V8 heap-sizing flags (tools/lib/node-flags.mjs hands them to the
      // launcher, the benchmarks and the tests).
      for (const flag of cmd.slice(1, -1)) {
        expect(flag).toMatch(/^--max-(semi|old)-space-size=\d+$/);
      }
      expect(ops(image, 'ENTRYPOINT')).toEqual([]);
      // npm test builds first, so the path the image runs must exist in dist/.
      expect(existsSync(join(ROOT, cmd.at(-1)!))).toBe(true);
    });

    it('has a HEALTHCHECK using node fetch on /health/live at PORT (no curl in the slim image)', () => {
      const hc = ops(image, 'HEALTHCHECK');
      expect(hc).toHaveLength(1);
      expect(hc[0]).toMatch(/CMD \["node", "-e", .*fetch\(.*\/health\/live/);
      expect(hc[0]).not.toMatch(/curl|wget/);
      expect(hc[0]).toContain('process.env.PORT');
    });

    it('exposes and defaults PORT to the config schema default', () => {
      // The API port first; the gateway also documents its /metrics port (METRICS_PORT in k8s).
      expect(ops(image, 'EXPOSE')).toHaveLength(1);
      expect(must(ops(image, 'EXPOSE')[0], 'the EXPOSE').split(' ')[0]).toBe(String(port));
      expect(ops(target, 'ENV')).toContain(`PORT=${port}`);
    });
  });

  it('gives the gateway image the Supabase migrations for the migration Job', () => {
    expect(ops(stage('gateway'), 'COPY')).toContain('supabase/migrations ./supabase/migrations');
  });
});

describe('.dockerignore', () => {
  const patterns = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  it('keeps dependencies, build output, secrets, tests and dev tooling out of the context', () => {
    for (const p of [
      '**/node_modules',
      'dist',
      '.cache',
      '.git',
      'coverage',
      '**/.env',
      '**/.env.*',
      'test',
      'libs/testing',
      'tools',
    ]) {
      expect(patterns).toContain(p);
    }
  });

  it('keeps what the build needs', () => {
    for (const needed of [
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'tsconfig.build.json',
      'libs',
      'services',
      'supabase',
    ]) {
      expect(patterns).not.toContain(needed);
    }
    // `npm run build` runs through tools/with-node.sh, re-included after excluding tools/.
    expect(patterns.indexOf('!tools/with-node.sh')).toBeGreaterThan(patterns.indexOf('tools'));
  });
});

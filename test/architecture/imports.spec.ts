import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { REPO_ROOT } from '@neonpro/testing';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (name === 'node_modules' || name === 'dist') {
      return [];
    }
    if (statSync(full).isDirectory()) {
      return sourceFiles(full);
    }
    return full.endsWith('.ts') && !full.endsWith('.d.ts') ? [full] : [];
  });
}

/** Internal import edges: relative `./x.js` and `@neonpro/<lib>` (type-only imports included). */
function importGraph(files: string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const src = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
    const targets: string[] = [];
    for (const stmt of src.statements) {
      const spec =
        (ts.isImportDeclaration(stmt) || ts.isExportDeclaration(stmt)) &&
        stmt.moduleSpecifier &&
        ts.isStringLiteral(stmt.moduleSpecifier)
          ? stmt.moduleSpecifier.text
          : undefined;
      if (!spec) {
        continue;
      }
      let target: string | undefined;
      if (spec.startsWith('.')) {
        target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
      } else if (/^@neonpro\/[a-z-]+$/.test(spec)) {
        target = join(REPO_ROOT, 'libs', spec.slice(9), 'src/index.ts');
      }
      if (target && existsSync(target)) {
        targets.push(target);
      }
    }
    graph.set(file, targets);
  }
  return graph;
}

function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'visiting');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'visiting') {
        cycles.push([...stack.slice(stack.indexOf(next)), next]);
      } else if (!state.has(next)) {
        visit(next);
      }
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) {
    if (!state.has(node)) {
      visit(node);
    }
  }
  return cycles;
}

/**
 * The gateway's feature modules (see the module map in CONTRIBUTING.md): which folder belongs to
 * which module, and which modules each may import. Files at the root of src/ (app, main, the root
 * module) wire everything and may import anything.
 */
const GATEWAY_MODULE_OF: Record<string, string> = {
  'gateway.config.ts': 'core',
  core: 'core',
  database: 'core',
  nats: 'core',
  redis: 'core',
  ops: 'ops',
  metrics: 'ops',
  lifecycle: 'ops',
  docs: 'ops',
  edge: 'edge',
  common: 'edge',
  'rate-limit': 'edge',
  plans: 'edge',
  resilience: 'edge',
  auth: 'auth',
  healthcare: 'healthcare',
  usage: 'healthcare',
  chat: 'chat',
  realtime: 'realtime',
};
const GATEWAY_MODULE_MAY_IMPORT: Record<string, string[]> = {
  core: [],
  ops: ['core'],
  edge: ['core', 'ops'],
  auth: ['core', 'ops', 'edge'],
  healthcare: ['core', 'ops', 'edge', 'auth'],
  chat: ['core', 'ops', 'edge', 'auth', 'healthcare'],
  realtime: ['core', 'ops', 'edge', 'auth', 'chat'],
};
const GATEWAY_ROOT_FILES = new Set(['app.ts', 'main.ts', 'gateway.module.ts', 'plan-cli.ts']);

/** The module of a gateway source file ('root' for the wiring files); throws for an unmapped folder. */
function gatewayModuleOf(srcDir: string, file: string): string {
  const rel = relative(srcDir, file).split('/');
  const head = rel[0] ?? '';
  if (rel.length === 1 && GATEWAY_ROOT_FILES.has(head)) {
    return 'root';
  }
  const module = GATEWAY_MODULE_OF[head];
  if (!module) {
    throw new Error(`services/gateway/src/${head} belongs to no module: add it to GATEWAY_MODULE_OF`);
  }
  return module;
}

/** Edges between gateway modules that the map does not allow, as "from → to (file → file)". */
function forbiddenModuleEdges(srcDir: string, graph: Map<string, string[]>): string[] {
  const bad: string[] = [];
  for (const [file, targets] of graph) {
    if (!file.startsWith(srcDir + '/')) {
      continue;
    }
    const from = gatewayModuleOf(srcDir, file);
    for (const target of targets) {
      if (!target.startsWith(srcDir + '/')) {
        continue;
      }
      const to = gatewayModuleOf(srcDir, target);
      if (from === 'root' || from === to || GATEWAY_MODULE_MAY_IMPORT[from]?.includes(to)) {
        continue;
      }
      bad.push(`${from} → ${to} (${relative(srcDir, file)} → ${relative(srcDir, target)})`);
    }
  }
  return bad;
}

/** Engineering standards a per-file linter cannot see: import cycles, module boundaries, READMEs. */
describe('architecture', () => {
  const files = ['services', 'libs'].flatMap((d) => sourceFiles(join(REPO_ROOT, d)));

  it('has no import cycles in services or libs', () => {
    const graph = importGraph(files);
    expect(graph.size).toBeGreaterThan(100);
    const cycles = findCycles(graph).map((c) => c.map((f) => relative(REPO_ROOT, f)).join(' → '));
    expect(cycles).toEqual([]);
  });

  it('detects a cycle when there is one', () => {
    const g = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ]);
    expect(findCycles(g)).toEqual([['a', 'b', 'c', 'a']]);
  });

  it('gateway feature modules import only the modules the map allows', () => {
    const srcDir = join(REPO_ROOT, 'services/gateway/src');
    const graph = importGraph(files.filter((f) => f.startsWith(srcDir + '/')));
    expect(graph.size).toBeGreaterThan(50);
    expect(forbiddenModuleEdges(srcDir, graph)).toEqual([]);
  });

  it('reports a forbidden module edge and an unmapped folder', () => {
    const src = '/s';
    const graph = new Map([
      ['/s/auth/a.ts', ['/s/common/p.ts', '/s/healthcare/h.ts']],
      ['/s/app.ts', ['/s/realtime/r.ts']],
    ]);
    expect(forbiddenModuleEdges(src, graph)).toEqual(['auth → healthcare (auth/a.ts → healthcare/h.ts)']);
    expect(() => gatewayModuleOf(src, '/s/newthing/x.ts')).toThrow(/belongs to no module/);
  });

  it('every service and lib has a README', () => {
    const nest = JSON.parse(readFileSync(join(REPO_ROOT, 'nest-cli.json'), 'utf8')) as {
      projects: Record<string, { root: string }>;
    };
    const missing = Object.values(nest.projects)
      .map((p) => join(REPO_ROOT, p.root, 'README.md'))
      .filter((f) => !existsSync(f) || readFileSync(f, 'utf8').trim().length < 40);
    expect(missing).toEqual([]);
  });
});

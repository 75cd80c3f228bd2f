import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { REPO_ROOT } from '@neonpro/testing';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (name === 'node_modules' || name === 'dist') return [];
    if (statSync(full).isDirectory()) return sourceFiles(full);
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
      if (!spec) continue;
      let target: string | undefined;
      if (spec.startsWith('.')) target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
      else if (/^@neonpro\/[a-z-]+$/.test(spec)) target = join(REPO_ROOT, 'libs', spec.slice(9), 'src/index.ts');
      if (target && existsSync(target)) targets.push(target);
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
      if (state.get(next) === 'visiting') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return cycles;
}

/** Engineering standards a per-file linter cannot see: import cycles, READMEs. */
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

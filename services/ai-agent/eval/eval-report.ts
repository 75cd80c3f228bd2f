import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type GoldenFile, goldenFileSchema } from './golden-case.schema.js';
import type { CaseResult } from './eval-runner.js';

export const GOLDEN_DIR = join(import.meta.dirname, 'golden');

/** Every golden file, validated (a malformed case fails the run, it is never skipped). */
export function loadGoldenSet(dir = GOLDEN_DIR): GoldenFile[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const parsed = goldenFileSchema.safeParse(JSON.parse(readFileSync(join(dir, f), 'utf8')));
      if (!parsed.success) {
        throw new Error(`golden/${f}: ${parsed.error.message}`);
      }
      return parsed.data;
    });
}

export interface EvalSummary {
  provider: string;
  model: string;
  date: string;
  passed: number;
  total: number;
  score: number;
  byCategory: { category: string; passed: number; total: number }[];
}

export function summarise(results: CaseResult[], provider: string, model: string, date: string): EvalSummary {
  const cats = [...new Set(results.map((r) => r.category))];
  const passed = results.filter((r) => r.ok).length;
  return {
    provider,
    model,
    date,
    passed,
    total: results.length,
    score: results.length ? passed / results.length : 0,
    byCategory: cats.map((category) => {
      const mine = results.filter((r) => r.category === category);
      return { category, passed: mine.filter((r) => r.ok).length, total: mine.length };
    }),
  };
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

/** The table per category and the total, as printed and as appended to docs/evals.md. */
export function renderTable(s: EvalSummary): string {
  const rows = s.byCategory.map((c) => `| ${c.category} | ${c.passed}/${c.total} | ${pct(c.passed / c.total)} |`);
  return [
    '| Category | Passed | Score |',
    '|---|---|---|',
    ...rows,
    `| **Total** | **${s.passed}/${s.total}** | **${pct(s.score)}** |`,
  ].join('\n');
}

export function renderFailures(results: CaseResult[]): string {
  return results
    .filter((r) => !r.ok)
    .map((r) => {
      const bad = r.turns.findIndex((t) => !t.ok);
      const t = r.turns[bad];
      if (t === undefined) {
        throw new Error(`case ${r.id} failed with no failed turn`);
      }
      return `✗ ${r.category}/${r.id} turn ${bad + 1}: ${t.failures.join('; ')}\n    answer: ${t.answer.replace(/\n/g, ' ⏎ ').slice(0, 300)}\n    tools: ${t.tools.join(', ')}`;
    })
    .join('\n');
}

/** Appends the run to docs/evals.md, like the benchmarks' results. */
export function appendToDocs(file: string, s: EvalSummary, note: string): void {
  if (!existsSync(file)) {
    writeFileSync(file, '# Assistant evaluations\n');
  }
  appendFileSync(
    file,
    `\n## ${s.date} · provider \`${s.provider}\` · model \`${s.model}\` · ${pct(s.score)} (${s.passed}/${s.total})\n\n${note ? `${note}\n\n` : ''}${renderTable(s)}\n`,
  );
}

// `npm run eval` and `npm test` run the golden set here: the local model must score ≥ 95 % over
// ≥ 150 conversations, and every row of the "Why" table must pass. With EVAL_PROVIDER
// set (by tools/eval/run.mjs) it evaluates that provider instead and only reports its score.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MODEL_PROVIDERS, type ModelProvider } from '@neonpro/config';
import { findSupabaseDir } from '@neonpro/database';
import type { CaseResult } from './eval-runner.js';
import { appendToDocs, loadGoldenSet, renderFailures, renderTable, summarise } from './eval-report.js';
import { runGoldenSet } from './eval-session.js';

const provider = (process.env.EVAL_PROVIDER ?? 'local') as ModelProvider;
const loopback = process.env.EVAL_LOOPBACK === '1';
const repoRoot = join(findSupabaseDir(import.meta.dirname), '..');

describe(`golden set (${provider}${loopback ? ', loopback server' : ''})`, () => {
  let results: CaseResult[] = [];
  let model = '';

  beforeAll(async () => {
    expect(MODEL_PROVIDERS).toContain(provider);
    ({ results, model } = await runGoldenSet({ provider, loopback, only: process.env.EVAL_ONLY }));
    const summary = summarise(results, provider, model, new Date().toISOString().slice(0, 10));
    const report = `${renderTable(summary)}\n\n${renderFailures(results)}\n`;
    mkdirSync(join(repoRoot, 'test-results'), { recursive: true });
    writeFileSync(join(repoRoot, 'test-results', `eval-${provider}.md`), report);
    if (process.env.EVAL_WRITE === '1') {
      appendToDocs(
        join(repoRoot, 'docs', 'evals.md'),
        summary,
        loopback
          ? 'Against the scripted loopback OpenAI-compatible server of libs/testing (proves the harness, not a model).'
          : '',
      );
    }
  }, 900_000);

  it('has at least 150 conversations', () => {
    expect(loadGoldenSet().reduce((n, f) => n + f.cases.length, 0)).toBeGreaterThanOrEqual(150);
    expect(results.length).toBeGreaterThan(0);
  });

  if (provider === 'local' && !process.env.EVAL_ONLY) {
    it('the local model scores at least 95 %', () => {
      const passed = results.filter((r) => r.ok).length;
      if (passed / results.length < 0.95) {
        throw new Error(renderFailures(results));
      }
      expect(passed / results.length).toBeGreaterThanOrEqual(0.95);
    });

    const whyCases = loadGoldenSet().flatMap((f) => f.cases.filter((c) => c.why).map((c) => [c.why as string, c.id]));
    it.each(whyCases)('answers the "Why" row: %s', (_why, id) => {
      const r = results.find((x) => x.id === id);
      expect(r).toBeDefined();
      if (!r?.ok) {
        throw new Error(renderFailures(r ? [r] : []));
      }
    });
  } else {
    it('ran every selected conversation end to end', () => {
      expect(results.every((r) => r.turns.length > 0)).toBe(true);
    });
  }
});

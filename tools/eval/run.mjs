#!/usr/bin/env node
// `npm run eval -- --provider local|openai|anthropic|ollama [--loopback] [--only ID] [--no-write]`
// Runs the golden set (services/ai-agent/eval) through the real agent with that provider, prints
// the table per category and the total, and appends the run to docs/evals.md. Keys and base URLs
// come from the usual env (OPENAI_API_KEY, OPENAI_BASE_URL, ANTHROPIC_API_KEY, OLLAMA_BASE_URL…).
// With --provider openai and no OPENAI_BASE_URL/OPENAI_API_KEY, the scripted loopback server of
// libs/testing stands in (--loopback forces it).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
process.chdir(root);
const { values } = parseArgs({
  options: {
    provider: { type: 'string', default: 'local' },
    loopback: { type: 'boolean', default: false },
    only: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
  },
});
const providers = ['local', 'openai', 'anthropic', 'ollama'];
if (!providers.includes(values.provider)) {
  console.error(`eval: --provider must be one of ${providers.join(', ')}`);
  process.exit(2);
}
const loopback =
  values.loopback || (values.provider === 'openai' && !process.env.OPENAI_BASE_URL && !process.env.OPENAI_API_KEY);
const env = {
  ...process.env,
  EVAL_PROVIDER: values.provider,
  EVAL_LOOPBACK: loopback ? '1' : '0',
  EVAL_WRITE: values['no-write'] || values.only ? '0' : '1',
  ...(values.only ? { EVAL_ONLY: values.only } : {}),
};
const r = spawnSync(
  process.execPath,
  [
    '--experimental-vm-modules',
    '--no-warnings=ExperimentalWarning',
    'node_modules/jest/bin/jest.js',
    'services/ai-agent/eval/golden-set.int.spec.ts',
  ],
  { stdio: ['ignore', 'inherit', 'inherit'], env },
);
const report = join('test-results', `eval-${values.provider}.md`);
if (existsSync(report)) {
  console.log(`\n${readFileSync(report, 'utf8')}`);
}
process.exit(r.status ?? 1);

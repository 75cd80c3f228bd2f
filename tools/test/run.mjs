#!/usr/bin/env node
// `npm test`: installs dependencies if missing, then runs Jest and prints "N passed, N failed".
// It builds (E2E, deploy and drill tests run or read the built services) and checks the backing
// services only when a project that needs them runs: `npm run test:unit` does neither.
//   npm test                              every project
//   npm test -- --selectProjects unit     one project (see jest.config.mjs)
//   npm test -- services/gateway/test/x   the projects those paths belong to
// Tests that measure the machine (jest.config.mjs, EXCLUSIVE: the soak) run after the rest, alone;
// the summary line counts both runs.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmbeddedPostgres } from '../lib/embedded-postgres.mjs';
import { freePort } from '../lib/ports.mjs';
import { ProcessGroup } from '../lib/process-group.mjs';
import { checkBackingServices } from '../lib/services.mjs';
import { assertProjectNode } from '../lib/node-version.mjs';

// The built services and the test processes run on this process's Node.
assertProjectNode('npm test');

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
process.chdir(root);

function run(cmd, args, extraEnv = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...extraEnv } });
  return r.status ?? 1;
}

if (!existsSync('node_modules/.package-lock.json')) {
  console.log('npm test: installing dependencies (npm ci)…');
  if (run('npm', ['ci', '--no-audit', '--no-fund']) !== 0) {
    process.exit(1);
  }
}

const { EXCLUSIVE, NEEDS, projectsOf } = await import(join(root, 'jest.config.mjs'));
const args = process.argv.slice(2);

/** The projects this run touches: those named by --selectProjects, else those of the path arguments, else all. */
function selectedProjects() {
  const i = args.indexOf('--selectProjects');
  if (i >= 0) {
    const named = [];
    for (const a of args.slice(i + 1)) {
      if (a.startsWith('-')) {
        break;
      }
      named.push(a);
    }
    return named;
  }
  const paths = args.filter((a, j) => !a.startsWith('-') && !(args[j - 1] ?? '').match(/^-(t|-testNamePattern)$/));
  return paths.length ? [...new Set(paths.flatMap(projectsOf))] : Object.keys(NEEDS);
}

const projects = selectedProjects();
const unknown = projects.filter((p) => !NEEDS[p]);
if (unknown.length) {
  console.error(`npm test: unknown project(s) ${unknown.join(', ')}; known: ${Object.keys(NEEDS).join(', ')}`);
  process.exit(1);
}
const needsBuild = projects.some((p) => NEEDS[p].build);
const needsServices = projects.some((p) => NEEDS[p].services);

if (needsBuild && process.env.SKIP_BUILD !== '1') {
  console.log('npm test: building…');
  if (run('npm', ['run', '--silent', 'build']) !== 0) {
    process.exit(1);
  }
}

// No PostgreSQL (and none named by TEST_DATABASE_ADMIN_URL): the tests get an embedded one, as npm start does.
const embedded = new ProcessGroup();
const testEnv = {};
if (needsServices) {
  let missing = await checkBackingServices(['nats', 'postgres', 'redis']);
  if (missing.some((m) => m.name === 'postgres') && !process.env.TEST_DATABASE_ADMIN_URL) {
    const dir = join(root, '.cache', 'embedded-postgres-test');
    console.log(`npm test: no PostgreSQL answers; starting an embedded one (data in ${dir})`);
    const pgServer = await startEmbeddedPostgres(embedded, { dir, port: await freePort() });
    testEnv.TEST_DATABASE_ADMIN_URL = `${pgServer.url}/postgres`;
    testEnv.BENCH_DATABASE_ADMIN_URL = testEnv.TEST_DATABASE_ADMIN_URL;
    missing = missing.filter((m) => m.name !== 'postgres');
  }
  if (missing.length) {
    await embedded.stopAll();
    for (const m of missing) {
      console.error(`npm test: ${m.name} is not reachable at ${m.address}. ${m.hint}`);
    }
    process.exit(1);
  }
}

mkdirSync('test-results', { recursive: true });
const results = 'test-results/jest.json';

/** One Jest run; its JSON summary goes to `outputFile`. */
function jest(outputFile, phase) {
  return run(
    process.execPath,
    [
      '--experimental-vm-modules',
      '--no-warnings=ExperimentalWarning',
      'node_modules/jest/bin/jest.js',
      '--json',
      `--outputFile=${outputFile}`,
      // Either phase may hold none of the tests asked for; the summary still fails a run of none.
      ...(phase ? ['--passWithNoTests'] : []),
      ...args,
    ],
    { ...testEnv, ...(phase ? { NEONPRO_TEST_PHASE: phase } : {}) },
  );
}

// Tests that measure the machine run after the rest, alone (jest.config.mjs, EXCLUSIVE). Path
// and name filters apply to both phases.
const twoPhases = EXCLUSIVE.some((f) => projectsOf(f).some((p) => projects.includes(p)));
const runs = twoPhases
  ? [
      { file: 'test-results/jest-shared.json', phase: 'shared' },
      { file: 'test-results/jest-exclusive.json', phase: 'exclusive' },
    ]
  : [{ file: results, phase: undefined }];
// A report left by an earlier run must not stand in for one this run failed to write.
rmSync(results, { force: true });
let status = 0;
for (const r of runs) {
  rmSync(r.file, { force: true });
  const code = jest(r.file, r.phase);
  status ||= code;
}
await embedded.stopAll();
const summaries = runs.filter((r) => existsSync(r.file)).map((r) => JSON.parse(readFileSync(r.file, 'utf8')));
// A Jest run that left no report (it crashed) counts as a failed suite, never as nothing.
const lost = runs.length - summaries.length;
if (summaries.length) {
  const sum = (k) => summaries.reduce((a, r) => a + (r[k] ?? 0), 0);
  if (twoPhases) {
    // One report of both runs where CI and tools read it (Jest's --json shape, counts added).
    const merged = { ...summaries[0], testResults: summaries.flatMap((r) => r.testResults ?? []) };
    for (const k of Object.keys(merged).filter((k) => /^num[A-Z]/.test(k) && typeof merged[k] === 'number')) {
      merged[k] = sum(k);
    }
    merged.numRuntimeErrorTestSuites = sum('numRuntimeErrorTestSuites') + lost;
    merged.success = lost === 0 && summaries.every((r) => r.success);
    writeFileSync(results, JSON.stringify(merged));
  }
  const failed = sum('numFailedTests') + sum('numRuntimeErrorTestSuites') + lost;
  console.log(`${sum('numPassedTests')} passed, ${failed} failed`);
  if (failed > 0 || sum('numTotalTests') === 0) {
    process.exit(status || 1);
  }
}
process.exit(status);

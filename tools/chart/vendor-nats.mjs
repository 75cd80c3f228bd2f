#!/usr/bin/env node
// Vendors the official nats chart into helm/neonpro/charts and regenerates Chart.lock, offline:
//   node tools/chart/vendor-nats.mjs <nats-io/k8s git checkout> <tag, e.g. nats-2.14.2>
// No registry this project reaches serves https://nats-io.github.io/k8s/helm/charts/, so the chart
// is packaged from the tagged sources (`helm package`) and `helm dependency update` resolves it from
// a loopback repository whose index is cached under the official URL. Helm itself then writes the
// archive and Chart.lock (repository, version, digest): nothing is edited by hand. Chart.yaml's
// range must admit the tag's version; bump it first if needed.
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { helmBinary } from './helm.mjs';

const CHART = join(import.meta.dirname, '../../helm/neonpro');
const OFFICIAL = 'https://nats-io.github.io/k8s/helm/charts/';
const [checkout, tag] = process.argv.slice(2);
if (!checkout || !/^nats-\d+\.\d+\.\d+$/.test(tag ?? '')) {
  console.error('usage: node tools/chart/vendor-nats.mjs <nats-io/k8s checkout> nats-<version>');
  process.exit(2);
}

const helm = helmBinary();
const tmp = mkdtempSync(join(tmpdir(), 'vendor-nats-'));
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { stdio: 'inherit', ...opts });

/** Runs helm without blocking this process's event loop (it serves the loopback repository). */
const helmAsync = (args, env) =>
  new Promise((resolve, reject) => {
    const p = spawn(helm, args, { stdio: 'inherit', env: { ...process.env, ...env } });
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`helm ${args.join(' ')}: exit ${code}`))));
  });

try {
  // 1. The tagged chart sources, packaged.
  const src = join(tmp, 'src');
  const repo = join(tmp, 'repo');
  mkdirSync(src);
  mkdirSync(repo);
  const archive = join(tmp, 'nats.tar');
  run('git', ['-C', checkout, 'archive', '-o', archive, tag, 'helm/charts/nats']);
  run('tar', ['xf', archive, '--strip-components=2', '-C', src]);
  run(helm, ['package', join(src, 'nats'), '-d', repo]);

  // 2. A loopback repository, its index cached under the official repository's URL.
  const server = createServer((req, res) => {
    const file = join(repo, basename(req.url ?? ''));
    createReadStream(file)
      .on('error', () => res.writeHead(404).end())
      .pipe(res);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  run(helm, ['repo', 'index', repo, '--url', `http://127.0.0.1:${port}/`]);
  const home = join(tmp, 'home');
  mkdirSync(join(home, 'cache', 'repository'), { recursive: true });
  writeFileSync(join(home, 'repositories.yaml'), `apiVersion: ""\nrepositories:\n- name: nats\n  url: ${OFFICIAL}\n`);
  copyFileSync(join(repo, 'index.yaml'), join(home, 'cache', 'repository', 'nats-index.yaml'));

  // 3. helm dependency update on a copy of the chart, then its charts/ and Chart.lock back.
  const work = join(tmp, 'neonpro');
  cpSync(CHART, work, { recursive: true, filter: (p) => !p.startsWith(join(CHART, 'charts')) });
  rmSync(join(work, 'Chart.lock'), { force: true });
  try {
    await helmAsync(['dependency', 'update', work, '--skip-refresh'], {
      HELM_REPOSITORY_CONFIG: join(home, 'repositories.yaml'),
      HELM_REPOSITORY_CACHE: join(home, 'cache', 'repository'),
      HELM_CONFIG_HOME: home,
      HELM_CACHE_HOME: join(home, 'cache'),
      HELM_DATA_HOME: join(home, 'data'),
    });
  } finally {
    server.close();
  }
  rmSync(join(CHART, 'charts'), { recursive: true, force: true });
  cpSync(join(work, 'charts'), join(CHART, 'charts'), { recursive: true });
  copyFileSync(join(work, 'Chart.lock'), join(CHART, 'Chart.lock'));
  console.log(`vendored ${readdirSync(join(CHART, 'charts')).join(', ')}; Chart.lock regenerated`);
  run(helm, ['dependency', 'list', CHART]);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

// The node flags a service's image runs with: the CMD of its target in the root Dockerfile, between
// `node` and the entry file. The launcher, the benchmarks and the test spawner start services with them, so what they
// measure is the heap production runs (the Dockerfile is the one home of these flags).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');

/** e.g. `serviceNodeFlags('gateway')` → `['--max-semi-space-size=8']`. */
export function serviceNodeFlags(service) {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  // The target's stage: from its FROM line to the next FROM (or the end).
  const stage = dockerfile.split(/^(?=FROM )/m).find((s) => new RegExp(`^FROM \\S+ AS ${service}\\s*$`, 'm').test(s));
  if (!stage) {
    throw new Error(`no '${service}' target in the Dockerfile`);
  }
  const cmd = [...stage.matchAll(/^CMD (\[.*\])\s*$/gm)].at(-1);
  const argv = cmd ? JSON.parse(cmd[1]) : [];
  return argv[0] === 'node' ? argv.slice(1, -1) : [];
}

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

/** `512Mi`, `1Gi` (a Kubernetes memory quantity) in MiB. */
export function mebibytes(quantity) {
  const m = /^(\d+)(Mi|Gi)$/.exec(String(quantity));
  if (!m) {
    throw new Error(`unsupported memory quantity '${quantity}' (expected e.g. 512Mi or 1Gi)`);
  }
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
}

/**
 * The old-space cap Node gives a process inside a container with this memory limit. Node sizes
 * V8's heap from the cgroup limit (libuv's constrained memory), and V8 takes a quarter of it times
 * two for 64-bit pointers: a 512 MiB pod gets 256 MiB of old space, a 24 GiB host ~4 GiB. Checked
 * on a cgroup v1 memory limit of 512 MiB: heap_size_limit 280 MiB with the gateway's flags, the
 * same as `--max-old-space-size=256` outside it. A process sized for the host grows its heap far
 * longer before its first full collections, so memory measured there is not what the pod does.
 */
export function containerHeapFlags(limitMiB) {
  return [`--max-old-space-size=${Math.floor(limitMiB / 2)}`];
}

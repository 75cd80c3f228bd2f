// Reading a V8 .cpuprofile (node --cpu-prof): one home for what the text summary
// (cpuprofile-top.mjs) and the flame graph (flamegraph.mjs) both need.
import { readFileSync } from 'node:fs';

/** Frames that are not JavaScript work: left out of "busy" time. */
export const IDLE_FRAMES = new Set(['(idle)', '(program)']);

/** Where a frame's code lives: node_modules/<pkg>, our dist/services|libs/<name>, a node: module. */
export function where(cf) {
  const url = cf.url ?? '';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) {
    return m[1];
  }
  const d = /\/dist\/((?:services|libs)\/[^/]+)/.exec(url);
  if (d) {
    return d[1];
  }
  if (url.startsWith('node:')) {
    return 'node:' + url.slice(5).split('/')[0];
  }
  return url ? url.split('/').slice(-2).join('/') : '(native/vm)';
}

/**
 * The profile with its nodes by id, each node's parent, and each node's self time in
 * microseconds (from the sample time deltas, which are exact where hitCount is not).
 * `skipMs` leaves out the first milliseconds (start-up: module loading and compilation).
 */
export function readProfile(file, { skipMs = 0 } = {}) {
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parentOf = new Map();
  for (const n of prof.nodes) {
    for (const c of n.children ?? []) {
      parentOf.set(c, n.id);
    }
  }
  const self = new Map();
  let at = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = prof.timeDeltas[i] ?? 0;
    at += dt;
    if (at < skipMs * 1000) {
      continue;
    }
    const id = prof.samples[i];
    self.set(id, (self.get(id) ?? 0) + dt);
  }
  return { prof, byId, parentOf, self };
}

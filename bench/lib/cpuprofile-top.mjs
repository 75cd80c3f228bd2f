#!/usr/bin/env node
// Text summary of a V8 .cpuprofile: the hottest frames by self time, and self time grouped by
// package (node_modules/<pkg>, our own dist/ folders, node internals).
//   node bench/lib/cpuprofile-top.mjs file.cpuprofile [--top 25]
import { parseArgs } from 'node:util';
import { IDLE_FRAMES, readProfile, where } from './cpuprofile.mjs';

const { values, positionals } = parseArgs({
  options: {
    top: { type: 'string', default: '25' },
    callers: { type: 'string' },
    'skip-ms': { type: 'string', default: '0' }, // leave out start-up
  },
  allowPositionals: true,
});
const { byId, parentOf, self } = readProfile(positionals[0], { skipMs: Number(values['skip-ms']) });
const top = Number(values.top);
const total = [...self.values()].reduce((a, b) => a + b, 0);

const frames = new Map();
const pkgs = new Map();
for (const [id, t] of self) {
  const cf = byId.get(id).callFrame;
  const fn = cf.functionName || '(anonymous)';
  const key = `${fn} ${where(cf)}:${cf.lineNumber + 1}`;
  frames.set(key, (frames.get(key) ?? 0) + t);
  const p = ['(garbage collector)', '(idle)', '(program)'].includes(fn) ? fn : where(cf);
  pkgs.set(p, (pkgs.get(p) ?? 0) + t);
}
const pct = (t) => ((100 * t) / total).toFixed(1).padStart(5) + '%';
console.log(`total sampled ${(total / 1e6).toFixed(1)} s`);
console.log('\nself time by frame');
for (const [k, t] of [...frames].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`${pct(t)}  ${k}`);
}
console.log('\nself time by package');
for (const [k, t] of [...pkgs].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`${pct(t)}  ${k}`);
}

// Inclusive (total) time by package: samples whose stack passes through the package at least once,
// as a share of the busy (non-idle) samples.
{
  const incl = new Map();
  let busy = 0;
  for (const [id, t] of self) {
    const fn = byId.get(id).callFrame.functionName;
    if (IDLE_FRAMES.has(fn)) {
      continue;
    }
    busy += t;
    const seen = new Set();
    for (let p = id; p !== undefined; p = parentOf.get(p)) {
      seen.add(where(byId.get(p).callFrame));
    }
    for (const k of seen) {
      incl.set(k, (incl.get(k) ?? 0) + t);
    }
  }
  console.log(`\ninclusive time by package (share of busy samples, ${(busy / 1e6).toFixed(1)} s)`);
  for (const [k, t] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((100 * t) / busy).toFixed(1).padStart(5)}%  ${k}`);
  }
}

// --callers NAME: for frames named NAME, their self time split by the chain of callers above them.
if (values.callers) {
  const chains = new Map();
  for (const [id, t] of self) {
    if (byId.get(id).callFrame.functionName !== values.callers) {
      continue;
    }
    const names = [];
    for (let p = parentOf.get(id); p !== undefined && names.length < 8; p = parentOf.get(p)) {
      const cf = byId.get(p).callFrame;
      names.push(`${cf.functionName || '(anon)'}@${where(cf)}`);
    }
    const k = names.join(' < ');
    chains.set(k, (chains.get(k) ?? 0) + t);
  }
  console.log(`\ncallers of ${values.callers}`);
  for (const [k, t] of [...chains].sort((a, b) => b[1] - a[1]).slice(0, 10)) {
    console.log(`${pct(t)}  ${k}`);
  }
}

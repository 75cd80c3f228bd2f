#!/usr/bin/env node
// Text summary of a V8 .cpuprofile: the hottest frames by self time, and self time grouped by
// package (node_modules/<pkg>, our own dist/ folders, node internals).
//   node bench/lib/cpuprofile-top.mjs file.cpuprofile [--top 25]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  options: { top: { type: 'string', default: '25' }, callers: { type: 'string' } },
  allowPositionals: true,
});
const prof = JSON.parse(readFileSync(positionals[0], 'utf8'));
const top = Number(values.top);

const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = prof.timeDeltas;
for (let i = 0; i < prof.samples.length; i++) {
  const id = prof.samples[i];
  self.set(id, (self.get(id) ?? 0) + (dt[i] ?? 0));
}
const total = [...self.values()].reduce((a, b) => a + b, 0);

function where(cf) {
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
  const parentOf = new Map();
  for (const n of prof.nodes) {
    for (const c of n.children ?? []) {
      parentOf.set(c, n.id);
    }
  }
  const incl = new Map();
  let busy = 0;
  for (const [id, t] of self) {
    const fn = byId.get(id).callFrame.functionName;
    if (fn === '(idle)' || fn === '(program)') {
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
  const parent = new Map();
  for (const n of prof.nodes) {
    for (const c of n.children ?? []) {
      parent.set(c, n.id);
    }
  }
  const chains = new Map();
  for (const [id, t] of self) {
    if (byId.get(id).callFrame.functionName !== values.callers) {
      continue;
    }
    const names = [];
    for (let p = parent.get(id); p !== undefined && names.length < 8; p = parent.get(p)) {
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

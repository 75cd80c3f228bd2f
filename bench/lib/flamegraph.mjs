#!/usr/bin/env node
// SVG flame graph of a V8 .cpuprofile (node --cpu-prof, BENCH_CPU_PROF): root at the bottom, a
// frame's width is its inclusive share of the busy samples (idle and "(program)" left out), colour
// by where the code lives (ours, node internals, a dependency, GC). Hover a frame for its package,
// line and share. docs/performance.md embeds the ones it discusses (docs/profiles/*.svg).
//   node bench/lib/flamegraph.mjs file.cpuprofile --out docs/profiles/x.svg [--title T] [--min 0.002] [--skip-ms 3000]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { IDLE_FRAMES, readProfile, where } from './cpuprofile.mjs';

const { values, positionals } = parseArgs({
  options: {
    'skip-ms': { type: 'string', default: '0' }, // leave out start-up
    out: { type: 'string' },
    title: { type: 'string' },
    min: { type: 'string', default: '0.002' }, // frames under this share of busy time are dropped
    width: { type: 'string', default: '1200' },
  },
  allowPositionals: true,
});
if (!positionals[0] || !values.out) {
  console.error('usage: flamegraph.mjs file.cpuprofile --out file.svg [--title T] [--min 0.002]');
  process.exit(2);
}
const { byId, parentOf, self } = readProfile(positionals[0], { skipMs: Number(values['skip-ms']) });

// A merged call tree keyed by frame (V8 may split one frame into several sibling nodes).
const root = { name: 'all', pkg: '', line: 0, total: 0, children: new Map() };
for (const [id, t] of self) {
  const fn = byId.get(id).callFrame.functionName;
  if (IDLE_FRAMES.has(fn) || t === 0) {
    continue;
  }
  const stack = [];
  for (let p = id; p !== undefined; p = parentOf.get(p)) {
    const cf = byId.get(p).callFrame;
    if (cf.functionName === '(root)') {
      break;
    }
    stack.push(cf);
  }
  root.total += t;
  let node = root;
  for (const cf of stack.reverse()) {
    const name = cf.functionName || '(anonymous)';
    const pkg = where(cf);
    const key = `${name}\u0000${pkg}\u0000${cf.lineNumber}`;
    let child = node.children.get(key);
    if (!child) {
      child = { name, pkg, line: cf.lineNumber + 1, total: 0, children: new Map() };
      node.children.set(key, child);
    }
    child.total += t;
    node = child;
  }
}

const width = Number(values.width);
const minShare = Number(values.min);
const ROW = 16;
const rects = [];
let depthMax = 0;
(function layout(node, x, depth) {
  rects.push({ node, x, depth });
  depthMax = Math.max(depthMax, depth);
  let cx = x;
  for (const c of [...node.children.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    if (c.total / root.total >= minShare) {
      layout(c, cx, depth + 1);
    }
    cx += (c.total / root.total) * width;
  }
})(root, 0, 0);

const hash = (s) => [...s].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) >>> 0, 7);
function colour(n) {
  const h = hash(n.name) % 40;
  if (n.name === '(garbage collector)') {
    return 'rgb(150,150,150)';
  }
  if (/^(services|libs)\//.test(n.pkg)) {
    return `rgb(${80 + h},${140 + h},230)`; // ours: blue
  }
  if (n.pkg.startsWith('node:')) {
    return `rgb(${90 + h},${190 + h},${90 + h})`; // node internals: green
  }
  if (n.pkg === '(native/vm)') {
    return `rgb(220,${90 + h},${90 + h})`; // native and VM frames: red
  }
  return `rgb(240,${140 + h * 2},${40 + h})`; // dependencies: orange
}
const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const top = 40;
const height = top + (depthMax + 1) * ROW + 10;
const out = [
  `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="monospace" font-size="11">`,
  `<rect width="100%" height="100%" fill="#fdfdf6"/>`,
  `<text x="6" y="16" font-size="14">${esc(values.title ?? positionals[0])}</text>`,
  `<text x="6" y="32" fill="#555">busy ${(root.total / 1e6).toFixed(2)} s sampled; frames under ${(minShare * 100).toFixed(1)} % left out; blue: ours, green: node, orange: dependencies, grey: GC, red: native</text>`,
];
for (const { node, x, depth } of rects) {
  const w = (node.total / root.total) * width;
  const y = height - 10 - (depth + 1) * ROW;
  const share = ((100 * node.total) / root.total).toFixed(1);
  const label = `${node.name}${node.pkg ? ` ${node.pkg}:${node.line}` : ''}`;
  const chars = Math.floor((w - 4) / 6.6);
  const text = chars >= 3 ? (label.length > chars ? `${label.slice(0, chars - 1)}…` : label) : '';
  out.push(
    `<g><title>${esc(label)} (${share} %)</title><rect x="${x.toFixed(1)}" y="${y}" width="${Math.max(w - 0.5, 0.5).toFixed(1)}" height="${ROW - 1}" fill="${colour(node)}"/>` +
      (text ? `<text x="${(x + 2).toFixed(1)}" y="${y + 11}">${esc(text)}</text>` : '') +
      '</g>',
  );
}
out.push('</svg>');
writeFileSync(values.out, out.join('\n') + '\n');
console.log(`${values.out}: ${rects.length} frames, depth ${depthMax}`);

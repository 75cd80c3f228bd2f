#!/usr/bin/env node
// `npm run bench [-- --only 2,3 --duration 10 --sockets 1000,5000]`: runs each scenario beside its baseline in one
// run and appends the raw numbers and ratios to docs/benchmarks.md.
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { machineInfo } from './lib/machine.mjs';
import { ROOT } from './lib/procs.mjs';
import { fmt } from './lib/stats.mjs';
import * as agentScaleout from './scenarios/agent-scaleout.mjs';
import * as breakerFailfast from './scenarios/breaker-failfast.mjs';
import * as chatRoundtrip from './scenarios/chat-roundtrip.mjs';
import * as healthcareRead from './scenarios/healthcare-read.mjs';
import * as limiterOverhead from './scenarios/limiter-overhead.mjs';
import * as queueBurst from './scenarios/queue-burst.mjs';
import * as socketio from './scenarios/socketio.mjs';

const SCENARIOS = [
  healthcareRead,
  chatRoundtrip,
  socketio,
  agentScaleout,
  breakerFailfast,
  limiterOverhead,
  queueBurst,
].sort((a, b) => a.id - b.id);

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    duration: { type: 'string', default: '10' },
    'no-write': { type: 'boolean' },
    // Scenario 3: socket counts to try, e.g. --sockets 1000,5000 (default 1000,5000,10000).
    sockets: { type: 'string' },
  },
});
const only = values.only ? new Set(values.only.split(',').map(Number)) : undefined;
const duration = Number(values.duration);
const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

const m = machineInfo();
let md = `\n## Run of ${m.date}\n\nMachine: ${m.nproc} CPU (${m.cpu}), ${m.memGiB} GiB RAM, Node ${m.node}; load average at start ${m.load}. Load generators run as separate processes on the same machine.\n`;

for (const s of SCENARIOS) {
  if (only && !only.has(s.id)) {
    continue;
  }
  console.log(`▸ scenario ${s.id}: ${s.title}`);
  try {
    const r = await s.run({ duration, natsUrl, sockets: values.sockets?.split(',').map(Number) });
    md += `\n### ${s.id}. ${s.title}\n\n${r.notes ?? ''}\n\n| path | req/s | mean ms | p50 ms | p90 ms | p99 ms | max ms | requests | errors |\n|---|---|---|---|---|---|---|---|---|\n`;
    for (const row of r.rows) {
      md += `| ${row.label} | ${fmt(row.rps, 0)} | ${fmt(row.mean)} | ${fmt(row.p50)} | ${fmt(row.p90)} | ${fmt(row.p99)} | ${fmt(row.max)} | ${row.requests} | ${row.errors} |\n`;
    }
    if (r.extra) {
      md += `\n${r.extra}\n`;
    }
    md += `\n| ratio | value | target |\n|---|---|---|\n`;
    for (const q of r.ratios) {
      md += `| ${q.label} | ${fmt(q.value)} | ${q.target ?? ''} |\n`;
    }
    console.log(
      r.rows
        .map((row) => `  ${row.label}: ${fmt(row.rps, 0)} req/s p50 ${fmt(row.p50)} p99 ${fmt(row.p99)}`)
        .join('\n'),
    );
    console.log(r.ratios.map((q) => `  ${q.label}: ${fmt(q.value)}`).join('\n'));
  } catch (err) {
    md += `\n### ${s.id}. ${s.title}\n\nFAILED: ${err instanceof Error ? err.message : String(err)}\n`;
    console.error(`  failed: ${String(err)}`);
    process.exitCode = 1;
  }
}

md += `\nLoad average at the end: ${machineInfo().load}.\n`;

if (!values['no-write']) {
  const file = join(ROOT, 'docs/benchmarks.md');
  if (!existsSync(file)) {
    writeFileSync(
      file,
      '# Benchmarks\n\nAppended by `npm run bench`: each scenario beside its baseline, from one run on one machine.\n',
    );
  }
  appendFileSync(file, md);
  console.log(`results appended to ${file}`);
}

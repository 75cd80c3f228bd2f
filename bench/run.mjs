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
import * as clinicScale from './scenarios/clinic-scale.mjs';
import * as queueBurst from './scenarios/queue-burst.mjs';
import * as socketio from './scenarios/socketio.mjs';
import * as turnLength from './scenarios/turn-length.mjs';

const SCENARIOS = [
  healthcareRead,
  chatRoundtrip,
  socketio,
  agentScaleout,
  breakerFailfast,
  limiterOverhead,
  queueBurst,
  turnLength,
  clinicScale,
].sort((a, b) => a.id - b.id);

// The performance targets (issue 17), each computed from the `metrics` of the scenarios it
// needs; a target whose scenarios did not run in this invocation reads "not measured".
const TARGETS = [
  { label: 'Scenario 1: gateway ÷ bare Fastify + pg (req/s)', op: '≥', goal: 0.8, of: (m) => m.s1_ratio },
  {
    label: 'Chat turns/s (local model, 32 clients) ÷ healthcare reads/s (scenario 1 gateway)',
    op: '≥',
    goal: 0.35,
    of: (m) => m.chat_rps_32 / m.s1_gateway_rps,
    floor: (m) => m.bare_agent_rps_32 / m.s1_gateway_rps,
    // Diagnostic: the bare agent without the turn's two Postgres statements (scenario 2).
    storeless: (m) => m.bare_agent_without_statements_rps_32 / m.s1_gateway_rps,
  },
  {
    label: 'Chat p50, 1 client, "oi" (ms)',
    op: '≤',
    goal: 5,
    of: (m) => m.chat_p50_1,
    floor: (m) => m.bare_agent_p50_1,
  },
  { label: '10k sockets, fresh gateway (MB RSS)', op: '≤', goal: 320, of: (m) => m.rss_10k_mb },
  { label: 'Breaker open, p99 (ms)', op: '≤', goal: 3, of: (m) => m.breaker_p99 },
  { label: 'Turn 200 ÷ turn 1 latency (p50)', op: '≤', goal: 1.2, of: (m) => m.turn_growth },
  { label: '100k-patient search p50 ÷ 200-patient search p50', op: '≤', goal: 2, of: (m) => m.search_scale },
];
const metrics = {};

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
    Object.assign(metrics, r.metrics ?? {});
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

// "bare agent": the same figure with scenario 2's bare agent behind the gateway, the most the
// architecture allows on this machine whatever the agent's own code does; in brackets, where a
// target has one, the same with the bare agent skipping the turn's storage (a diagnostic).
md += `\n### Targets (issue 17)\n\n| target | goal | this run | with the bare agent | verdict |\n|---|---|---|---|---|\n`;
console.log('targets:');
for (const t of TARGETS) {
  const v = t.of(metrics);
  const measured = Number.isFinite(v);
  const met = measured && (t.op === '≥' ? v >= t.goal : v <= t.goal);
  const verdict = !measured ? 'not measured in this run' : met ? 'met' : 'open';
  const floor = t.floor?.(metrics);
  const storeless = t.storeless?.(metrics);
  const floorText = Number.isFinite(floor)
    ? `${fmt(floor)}${Number.isFinite(storeless) ? ` (${fmt(storeless)} without its two Postgres statements)` : ''}`
    : '';
  md += `| ${t.label} | ${t.op} ${t.goal} | ${measured ? fmt(v) : 'n/a'} | ${floorText} | ${verdict} |\n`;
  console.log(
    `  ${t.label}: ${measured ? fmt(v) : 'n/a'} (goal ${t.op} ${t.goal}${floorText ? `; bare agent ${floorText}` : ''}) → ${verdict}`,
  );
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

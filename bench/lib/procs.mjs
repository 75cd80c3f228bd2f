// Starts built services and load generators as separate processes for the benchmarks.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { serviceNodeFlags } from '../../tools/lib/node-flags.mjs';
import { assertProjectNode } from '../../tools/lib/node-version.mjs';

// Every bench scenario and dev aid imports this module, and the services run on this process's Node.
assertProjectNode('bench');

export const ROOT = join(import.meta.dirname, '..', '..');

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export class Proc {
  constructor(name, child) {
    this.name = name;
    this.child = child;
    this.out = '';
    child.stdout?.on('data', (b) => (this.out += b));
    child.stderr?.on('data', (b) => (this.out += b));
    this.exit = once(child, 'exit');
  }

  async stop(signal = 'SIGTERM') {
    if (this.child.exitCode !== null || this.child.signalCode !== null) {
      return;
    }
    this.child.kill(signal);
    const t = setTimeout(() => this.child.kill('SIGKILL'), 15000);
    await this.exit;
    clearTimeout(t);
  }
}

export function startService(name, entry, env) {
  // BENCH_CPU_PROF=<dir>: every service writes a V8 .cpuprofile there when it exits (see
  // tools/bench/cpuprofile-top.mjs for the hottest frames).
  const prof = process.env.BENCH_CPU_PROF;
  const args = prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`] : [];
  // NODE_ENV=test: the bench stack is local (loopback auth emulator over http, the dev database
  // login), which production mode refuses by design. Nothing else in the services reads NODE_ENV.
  // A built service runs with its image's node flags (heap sizing), as in production.
  const service = /^dist\/services\/([a-z-]+)\/src\/main\.js$/.exec(entry)?.[1];
  const flags = service ? serviceNodeFlags(service) : [];
  const child = spawn(process.execPath, [...flags, ...args, join(ROOT, entry)], {
    env: { PATH: process.env.PATH, LOG_LEVEL: 'warn', HOST: '127.0.0.1', NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Proc(name, child);
}

export async function waitReady(url, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).status === 200) {
        return;
      }
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} not ready`);
}

/** Runs a load generator script in its own process and returns the JSON it prints last. */
export async function runLoad(script, config) {
  const child = spawn(process.execPath, [join(ROOT, 'bench/load', script), JSON.stringify(config)], {
    env: process.env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (b) => (out += b));
  const [code] = await once(child, 'exit');
  if (code !== 0) {
    throw new Error(`${script} exited ${code}`);
  }
  const last = out.trim().split('\n').at(-1);
  return JSON.parse(last);
}

/**
 * The fields of a /proc stat file (`/proc/<pid>/stat`, `/proc/self/stat`, a task's) after
 * "pid (comm) ", as numbers where they are: field N of proc(5) is index N - 3. The command name
 * may itself hold ") ", so the split is at the last one.
 */
export function statFields(path) {
  const text = readFileSync(path, 'utf8');
  return text
    .slice(text.lastIndexOf(') ') + 2)
    .trim()
    .split(' ')
    .map((v) => (/^-?\d+$/.test(v) ? Number(v) : v));
}

/** Indexes into `statFields`; CPU times are in 1/100 s (USER_HZ). */
export const STAT = { minflt: 7, utime: 11, stime: 12, cutime: 13, cstime: 14 };
export const STAT_TICK_MS = 1000 / 100;

/** CPU milliseconds (user + system) a process has used so far, from /proc/<pid>/stat (Linux). */
export function cpuMs(pid) {
  const f = statFields(`/proc/${pid}/stat`);
  return (f[STAT.utime] + f[STAT.stime]) * STAT_TICK_MS;
}

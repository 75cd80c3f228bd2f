// CPU time and read/write system calls of a process around a measured run, from /proc: on a busy
// machine these move far less than req/s or latency does. Also the main thread's own share: the
// event loop's user CPU time, and how often the kernel took its core away (docs/performance.md,
// scenario 1, "Sixth pass": a V8 profile charges that wait to the frame the thread was in).
import { readFileSync } from 'node:fs';
import { cpuMs, STAT, STAT_TICK_MS, statFields } from './procs.mjs';

/** read(2)/write(2)-family system calls so far (/proc/<pid>/io): round trips show up here. */
function syscalls(pid) {
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  return Number(/syscr: (\d+)/.exec(io)[1]) + Number(/syscw: (\d+)/.exec(io)[1]);
}

/** The main thread (its tid is the pid): user CPU ms and involuntary context switches so far. */
function mainThread(pid) {
  const stat = statFields(`/proc/${pid}/task/${pid}/stat`);
  const status = readFileSync(`/proc/${pid}/task/${pid}/status`, 'utf8');
  return {
    userMs: stat[STAT.utime] * STAT_TICK_MS,
    preemptions: Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(status)[1]),
  };
}

/**
 * CPU ms of this process's children that have exited and been reaped so far (/proc/self/stat
 * cutime + cstime). Around a `runLoad` this is the load generator's own CPU: the services the
 * bench started are children too, but they are still running, so they do not count yet.
 */
function reapedChildrenMs() {
  const f = statFields('/proc/self/stat');
  return (f[STAT.cutime] + f[STAT.cstime]) * STAT_TICK_MS;
}

/** Minor page faults so far (/proc/<pid>/stat): first touches of memory the process was given. */
function minorFaults(pid) {
  return statFields(`/proc/${pid}/stat`)[STAT.minflt];
}

/** Everything `measured` reports, as running totals of one process. */
export function usage(pid) {
  const main = mainThread(pid);
  return {
    cpuMs: cpuMs(pid),
    syscalls: syscalls(pid),
    mainUserMs: main.userMs,
    preemptions: main.preemptions,
    minorFaults: minorFaults(pid),
  };
}

/** `after - before`, field by field: what a process spent between two `usage` readings. */
export function spent(before, after) {
  return Object.fromEntries(Object.keys(before).map((k) => [k, after[k] - before[k]]));
}

/**
 * Runs `load` and adds what the process spent meanwhile to its result: CPU ms (all threads, user
 * and system), read/write system calls, the main thread's user CPU ms and preemptions
 * (involuntary context switches), and the minor page faults. Also `loadgenCpuMs`, the CPU of the
 * child `load` ran and waited for (a `runLoad` load generator; 0 when it ran none).
 */
export async function measured(pid, load) {
  const before = usage(pid);
  const children = reapedChildrenMs();
  const r = await load();
  return { ...r, ...spent(before, usage(pid)), loadgenCpuMs: reapedChildrenMs() - children };
}

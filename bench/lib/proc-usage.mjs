// CPU time and read/write system calls of a process around a measured run, from /proc: on a busy
// machine these move far less than req/s or latency does.
import { readFileSync } from 'node:fs';

const TICK_MS = 1000 / 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s

function cpuMs(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_MS; // utime + stime
}

/** read(2)/write(2)-family system calls so far (/proc/<pid>/io): round trips show up here. */
function syscalls(pid) {
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  return Number(/syscr: (\d+)/.exec(io)[1]) + Number(/syscw: (\d+)/.exec(io)[1]);
}

/** Runs `load` and adds the process's CPU ms and system calls spent meanwhile to its result. */
export async function measured(pid, load) {
  const before = cpuMs(pid);
  const sys = syscalls(pid);
  const r = await load();
  return { ...r, cpuMs: cpuMs(pid) - before, syscalls: syscalls(pid) - sys };
}

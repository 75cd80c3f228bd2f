import { cpus, freemem, loadavg, totalmem } from 'node:os';

export function machineInfo() {
  return {
    date: new Date().toISOString(),
    nproc: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memGiB: (totalmem() / 2 ** 30).toFixed(1),
    freeGiB: (freemem() / 2 ** 30).toFixed(1),
    node: process.version,
    load: loadavg()
      .map((x) => x.toFixed(2))
      .join(' '),
  };
}

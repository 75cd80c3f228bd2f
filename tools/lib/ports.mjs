import { canConnect } from './services.mjs';

/** Ports among `ports` that something already listens on. */
export async function busyPorts(ports) {
  const busy = [];
  for (const port of ports) if (await canConnect({ host: '127.0.0.1', port }, 500)) busy.push(port);
  return busy;
}

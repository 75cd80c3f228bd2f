import { createServer } from 'node:net';
import { canConnect } from './services.mjs';

/** Ports among `ports` that something already listens on. */
export async function busyPorts(ports) {
  const busy = [];
  for (const port of ports) {
    if (await canConnect({ host: '127.0.0.1', port }, 500)) {
      busy.push(port);
    }
  }
  return busy;
}

/** A port the OS considers free on 127.0.0.1 right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

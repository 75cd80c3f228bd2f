import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';

/** A TCP port that was free a moment ago (bound then released by the OS). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** A NATS subject prefix no other test uses, so suites never hear each other's agents. */
export function uniquePrefix(label = 't'): string {
  return `${label}-${randomBytes(5).toString('hex')}`;
}

export const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

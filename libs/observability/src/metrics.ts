import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Registry } from 'prom-client';

export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');

/**
 * One registry per application instance (not prom-client's global), so several instances can
 * live in one process during tests and every series carries the service label.
 */
export function createMetricsRegistry(service: string, instance?: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service, ...(instance ? { instance } : {}) });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * A listener serving only `GET /metrics` (everything else 404), on a port no Ingress routes to.
 * Resolves once listening; `port: 0` picks a free port (see `address()`).
 */
export async function startMetricsServer(
  registry: Registry,
  port: number,
  host: string,
): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'Content-Type': registry.contentType, 'Cache-Control': 'no-store' }).end(body),
      () => res.writeHead(500, { 'Content-Type': 'text/plain' }).end('metrics unavailable'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

import { createTestDatabase, freePort, type TestDatabase, uniquePrefix } from '@neonpro/testing';
import { type GatewayApp, startGateway } from '../src/app.js';
import { gatewayUrl, testGatewayEnv } from './support/test-gateway.js';

/** What an Ingress in front of the API port can reach, and what readiness gates on. */
describe('gateway operational exposure (real NATS)', () => {
  let tdb: TestDatabase;
  const started: GatewayApp[] = [];
  const env = (over: Record<string, string>): Record<string, string> =>
    testGatewayEnv(uniquePrefix('ops'), { DATABASE_URL: tdb.serviceUrl, ...over });
  const boot = async (over: Record<string, string>): Promise<GatewayApp> => {
    const gw = await startGateway(env(over));
    started.push(gw);
    return gw;
  };

  beforeAll(async () => {
    tdb = await createTestDatabase();
  });
  afterAll(async () => {
    await Promise.all(started.map((g) => g.close()));
    await tdb.drop();
  });

  it('serves /metrics only on METRICS_PORT, and nothing else there', async () => {
    const metricsPort = await freePort();
    const gw = await boot({ METRICS_PORT: String(metricsPort) });
    expect(gw.metricsPort).toBe(metricsPort);
    expect((await fetch(`${gatewayUrl(gw)}/metrics`)).status).toBe(404);
    const m = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(m.status).toBe(200);
    expect(await m.text()).toMatch(/^socket_connections\{[^}]*service="gateway"/m);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/health/ready`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/v1/me`)).status).toBe(404);
  });

  it('keeps /metrics on the API port when METRICS_PORT is 0 (local runs)', async () => {
    const gw = await boot({});
    expect(gw.metricsPort).toBe(gw.port);
    expect((await fetch(`${gatewayUrl(gw)}/metrics`)).status).toBe(200);
  });

  it('switches /docs off with DOCS_ENABLED=false', async () => {
    const off = await boot({ DOCS_ENABLED: 'false' });
    expect((await fetch(`${gatewayUrl(off)}/docs/openapi.json`)).status).toBe(404);
    const on = await boot({ DOCS_ENABLED: 'true' });
    expect((await fetch(`${gatewayUrl(on)}/docs/openapi.json`)).status).toBe(200);
  });

  it('stays ready while Postgres is unreachable, showing it in the checks', async () => {
    const closed = await freePort();
    const gw = await boot({ DATABASE_URL: `postgres://postgres@127.0.0.1:${closed}/none` });
    const r = await fetch(`${gatewayUrl(gw)}/health/ready`);
    const body = (await r.json()) as { checks: Record<string, { ok: boolean }> };
    expect(r.status).toBe(200);
    expect(body.checks.postgres?.ok).toBe(false);
    expect(body.checks.nats?.ok).toBe(true);
  });
});

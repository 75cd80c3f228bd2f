import { createTestDatabase, type TestDatabase, uniquePrefix } from '@neonpro/testing';
import { type GatewayApp, startGateway } from '../src/app.js';
import { gatewayUrl, testGatewayEnv } from './support/test-gateway.js';

/** RATE_LIMIT_ENABLED=false turns the limiter off; on, the same traffic is refused. */
describe('rate limiting kill switch', () => {
  let tdb: TestDatabase;
  const apps: GatewayApp[] = [];

  beforeAll(async () => {
    tdb = await createTestDatabase();
  });

  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    await tdb?.drop();
  });

  const boot = async (enabled: boolean): Promise<string> => {
    const app = await startGateway(
      testGatewayEnv(uniquePrefix('rl-switch'), {
        DATABASE_URL: tdb.serviceUrl,
        RATE_LIMIT_KEY_PREFIX: `${uniquePrefix('rl')}:`,
        RATE_LIMIT_DEFAULT_LIMIT: '2',
        RATE_LIMIT_ENABLED: String(enabled),
      }),
    );
    apps.push(app);
    return gatewayUrl(app);
  };

  // /v1/me is in the default tier; without a token it is counted, then refused with 401.
  const statuses = async (base: string): Promise<number[]> => {
    const out: number[] = [];
    for (let i = 0; i < 4; i++) {
      out.push((await fetch(`${base}/v1/me`)).status);
    }
    return out;
  };

  it('counts and refuses when enabled', async () => {
    expect(await statuses(await boot(true))).toEqual([401, 401, 429, 429]);
  });

  it('neither counts nor refuses when disabled', async () => {
    const base = await boot(false);
    expect(await statuses(base)).toEqual([401, 401, 401, 401]);
    const r = await fetch(`${base}/v1/me`);
    expect(r.headers.get('ratelimit')).toBeNull();
  });
});

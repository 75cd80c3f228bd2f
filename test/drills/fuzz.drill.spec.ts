import {
  freePort,
  NATS_URL,
  type ServiceProcess,
  spawnService,
  uniquePrefix,
  createTestDatabase,
  type TestDatabase,
  startAuthEmulator,
  type AuthEmulator,
  must,
  deletePrefixStreams,
} from '@neonpro/testing';
import { scaled, UNLIMITED } from './drill-mode.js';
import { rawRequest } from './http-raw.js';
import { nastyBody, nastyPathSegment, nastyValue, oneOf, rng, safeEncode } from './fuzz-inputs.js';

interface RouteSpec {
  method: string;
  path: string;
  fields: string[];
}

/** Routes to fuzz: every operation in the gateway's OpenAPI document when it serves one. */
async function discoverRoutes(base: string): Promise<RouteSpec[]> {
  const routes: RouteSpec[] = [
    { method: 'POST', path: '/v1/ai/chat', fields: ['message', 'session_id', 'client_message_id'] },
  ];
  const r = await fetch(`${base}/docs/openapi.json`).catch(() => undefined);
  if (r?.ok) {
    const doc = (await r.json()) as { paths: Record<string, Record<string, { requestBody?: unknown }>> };
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const method of Object.keys(ops)) {
        const schema = JSON.stringify(ops[method]?.requestBody ?? {});
        const fields = [...schema.matchAll(/"properties":\{([^}]*)/g)].flatMap((m) =>
          [...(m[1] ?? '').matchAll(/"(\w+)":/g)].map((x) => must(x[1], 'a captured name')),
        );
        routes.push({ method: method.toUpperCase(), path: path.replace(/\{[^}]+\}/g, ':param'), fields });
      }
    }
  }
  return routes;
}

const rssBytes = async (p: ServiceProcess): Promise<number> => {
  const text = await (await fetch(`${p.url}/metrics`)).text();
  return Number(/^process_resident_memory_bytes(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1]);
};

/** Drill: a fuzz pass over every REST route. Zero 5xx, zero crashes, stable memory. */
describe('drill: bad input fuzz over every REST route', () => {
  const prefix = uniquePrefix('drill-fuzz');
  let gateway: ServiceProcess;
  let tdb: TestDatabase;
  let agent: ServiceProcess;
  let emu: AuthEmulator;
  let token = '';

  beforeAll(async () => {
    // Seeded clinics and a real login, so most cases get past authentication into validation.
    tdb = await createTestDatabase({ seed: true });
    emu = await startAuthEmulator({ port: 0, databaseUrl: tdb.url });
    const env = {
      DATABASE_URL: tdb.serviceUrl,
      SUPABASE_URL: emu.url,
      NATS_URL,
      NATS_SUBJECT_PREFIX: prefix,
      LOG_LEVEL: 'warn',
    };
    agent = spawnService('ai-agent', await freePort(), { ...env, AGENT_CONCURRENCY: '16', AGENT_QUEUE_MAX: '256' });
    gateway = spawnService('gateway', await freePort(), { ...env, ...UNLIMITED });
    await Promise.all([gateway.waitReady(), agent.waitReady()]);
    const login = await fetch(`${gateway.url}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@aurora.demo', password: 'neonpro-demo' }),
    });
    token = ((await login.json()) as { access_token: string }).access_token;
  });

  afterAll(async () => {
    await Promise.all([gateway?.stop('SIGKILL'), agent?.stop('SIGKILL')]);
    await deletePrefixStreams(prefix);
    await emu?.close();
    await tdb?.drop();
  });

  it(
    'answers every malformed request with a 4xx problem (or a 2xx), never a 5xx',
    async () => {
      expect(token).not.toBe('');
      const routes = await discoverRoutes(gateway.url);
      expect(routes.length).toBeGreaterThan(10);
      const cases = scaled(600, 20000);
      const seed = Number(process.env.FUZZ_SEED ?? 20261126);
      const r = rng(seed);
      const fiveHundreds: string[] = [];
      const rssBefore = await rssBytes(gateway);

      const worker = async (): Promise<void> => {
        for (;;) {
          const n = remaining--;
          if (n <= 0) {
            return;
          }
          const route = oneOf(r, routes);
          const path = route.path.replace(/:param/g, () => nastyPathSegment(r));
          const query =
            r() < 0.5 ? `?${safeEncode(String(nastyValue(r)))}=${safeEncode(JSON.stringify(nastyValue(r)) ?? '')}` : '';
          const hasBody = !['GET', 'HEAD', 'DELETE'].includes(route.method);
          const { body, contentType } = nastyBody(r, route.fields);
          const headers: Record<string, string> = { 'content-type': contentType };
          const auth = r();
          if (auth < 0.6) {
            headers.authorization = `Bearer ${token}`;
          } else if (auth < 0.8) {
            headers.authorization = `Bearer ${safeEncode(String(nastyValue(r)))}`;
          }
          const payload = hasBody ? body : undefined;
          const res = await rawRequest(`${gateway.url}${path}${query}`, {
            method: route.method,
            headers,
            body: payload,
          });
          if ('error' in res) {
            const oversized = (payload?.length ?? 0) > 1024 * 1024;
            if (!(res.uploadCut && oversized)) {
              fiveHundreds.push(`${route.method} ${path}: ${res.error}`);
            }
          } else if (res.status >= 500) {
            fiveHundreds.push(`${route.method} ${path}: ${res.status}`);
          }
        }
      };
      // Two halves: the first warms caches, JIT and the allocator up (2 MB bodies leave RSS high
      // without being live), the second must not keep growing like the first: a leak would.
      let remaining = Math.floor(cases / 2);
      await Promise.all(Array.from({ length: 8 }, worker));
      const rssWarm = await rssBytes(gateway);
      remaining = cases - Math.floor(cases / 2);
      await Promise.all(Array.from({ length: 8 }, worker));

      const rssAfter = await rssBytes(gateway);
      const mb = (b: number): number => Math.round(b / 1048576);
      console.log(`REST fuzz: ${cases} cases, RSS MB start ${mb(rssBefore)}, half ${mb(rssWarm)}, end ${mb(rssAfter)}`);
      expect(fiveHundreds).toEqual([]);
      expect(gateway.running && agent.running).toBe(true);
      // Stable once warm: the second half adds little (a leak per request would add as much as the first).
      expect(rssAfter - rssWarm).toBeLessThan(64 * 1024 * 1024);
    },
    scaled(60_000, 900_000),
  );
});

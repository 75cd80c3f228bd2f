import { readFileSync } from 'node:fs';
import { type ConnectionOptions, credsAuthenticator, nkeyAuthenticator } from '@nats-io/transport-node';

export interface NatsSettings {
  NATS_URL: string;
  NATS_USER?: string;
  NATS_PASSWORD?: string;
  NATS_TOKEN?: string;
  NATS_NKEY_SEED?: string;
  NATS_CREDS_FILE?: string;
  NATS_TLS_CA_FILE?: string;
  NATS_TLS_CERT_FILE?: string;
  NATS_TLS_KEY_FILE?: string;
}

/**
 * Connection options for `@nats-io/transport-node` from a validated service config: the one
 * place every NATS connection (gateway, agents, tools) gets its credentials and TLS from.
 */
export function natsConnectionOptions(cfg: NatsSettings, name: string): ConnectionOptions {
  const opts: ConnectionOptions = {
    servers: cfg.NATS_URL.split(',').map((s) => s.trim()),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect: true,
    // Otherwise nats.js builds an Error with a stack for every request (each JetStream publish's
    // PubAck): ~3 % of a busy gateway or agent, for traces nobody reads (docs/performance.md).
    noAsyncTraces: true,
  };
  if (cfg.NATS_USER) {
    opts.user = cfg.NATS_USER;
    opts.pass = cfg.NATS_PASSWORD;
  }
  if (cfg.NATS_TOKEN) {
    opts.token = cfg.NATS_TOKEN;
  }
  if (cfg.NATS_NKEY_SEED) {
    opts.authenticator = nkeyAuthenticator(new TextEncoder().encode(cfg.NATS_NKEY_SEED));
  }
  if (cfg.NATS_CREDS_FILE) {
    const file = cfg.NATS_CREDS_FILE;
    // Read on every (re)connect, so a rotated creds file is picked up without a restart.
    opts.authenticator = credsAuthenticator(() => new Uint8Array(readFileSync(file)));
  }
  if (cfg.NATS_TLS_CA_FILE || cfg.NATS_TLS_CERT_FILE) {
    opts.tls = {
      ...(cfg.NATS_TLS_CA_FILE ? { caFile: cfg.NATS_TLS_CA_FILE } : {}),
      ...(cfg.NATS_TLS_CERT_FILE ? { certFile: cfg.NATS_TLS_CERT_FILE, keyFile: cfg.NATS_TLS_KEY_FILE } : {}),
    };
  } else if (cfg.NATS_URL.startsWith('tls://')) {
    opts.tls = {};
  }
  return opts;
}

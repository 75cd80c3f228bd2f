import type { IncomingMessage } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';

/** `TRUST_PROXY` as proxy-addr takes it: no proxy, a list of addresses or CIDRs, or a hop rule. */
export type TrustProxy = false | string[] | ((addr: string, hop: number) => boolean);

/** A hop count becomes proxy-addr's function form (what Fastify does with a number itself). */
export function trustProxyOption(v: false | number | string[]): TrustProxy {
  return typeof v === 'number' ? (_addr: string, hop: number) => hop < v : v;
}

/**
 * `req.protocol` as Fastify's trust-proxy request computes it (X-Forwarded-Proto, its last entry,
 * only from a trusted peer), for the requests Fastify's router builds without that class: the
 * ones it refuses before routing.
 */
export function forwardedProtocol(trust: TrustProxy): (req: IncomingMessage) => 'http' | 'https' {
  const trusted = trust === false ? () => false : typeof trust === 'function' ? trust : proxyAddr.compile(trust);
  return (req) => {
    const forwarded = req.headers['x-forwarded-proto'];
    const peer = req.socket.remoteAddress;
    if (typeof forwarded === 'string' && peer !== undefined && trusted(peer, 0)) {
      return forwarded.split(',').at(-1)?.trim() === 'https' ? 'https' : 'http';
    }
    return 'encrypted' in req.socket && req.socket.encrypted === true ? 'https' : 'http';
  };
}

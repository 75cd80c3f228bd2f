import type { IncomingMessage } from 'node:http';
import { forwardedProtocol, trustProxyOption } from './trust-proxy.js';

const request = (peer: string, proto?: string, encrypted = false): IncomingMessage =>
  ({
    headers: proto === undefined ? {} : { 'x-forwarded-proto': proto },
    socket: { remoteAddress: peer, encrypted },
  }) as unknown as IncomingMessage;

describe('forwardedProtocol', () => {
  it('believes X-Forwarded-Proto from a listed proxy only, reading its last entry', () => {
    const protocol = forwardedProtocol(trustProxyOption(['10.0.0.0/8']));
    expect(protocol(request('10.1.2.3', 'https'))).toBe('https');
    expect(protocol(request('10.1.2.3', 'http, https'))).toBe('https');
    expect(protocol(request('10.1.2.3', 'https, http'))).toBe('http');
    expect(protocol(request('192.168.0.9', 'https'))).toBe('http');
  });

  it('follows a hop count and ignores the header with no proxy trusted', () => {
    expect(forwardedProtocol(trustProxyOption(1))(request('203.0.113.7', 'https'))).toBe('https');
    expect(forwardedProtocol(trustProxyOption(0))(request('203.0.113.7', 'https'))).toBe('http');
    expect(forwardedProtocol(trustProxyOption(false))(request('127.0.0.1', 'https'))).toBe('http');
  });

  it('answers https for a TLS socket whatever the header says', () => {
    expect(forwardedProtocol(false)(request('127.0.0.1', undefined, true))).toBe('https');
    expect(forwardedProtocol(false)(request('127.0.0.1', 'http', true))).toBe('https');
  });
});

import { request } from 'node:http';

/**
 * One request on a fresh connection (no keep-alive), so a server that closes a connection after
 * refusing an oversized body cannot break unrelated requests queued on the same socket.
 */
export function rawRequest(
  url: string,
  opts: { method: string; headers: Record<string, string>; body?: string | Buffer },
): Promise<{ status: number } | { error: string; uploadCut: boolean }> {
  return new Promise((resolve) => {
    let responded = false;
    const req = request(url, { method: opts.method, headers: opts.headers, agent: false }, (res) => {
      responded = true;
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
      res.on('error', (e) => resolve({ error: e.message, uploadCut: false }));
    });
    // A reset while we are still uploading means the server answered and hung up early.
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (!responded) {
        resolve({ error: e.code ?? e.message, uploadCut: e.code === 'EPIPE' || e.code === 'ECONNRESET' });
      }
    });
    req.setTimeout(30000, () => req.destroy(new Error('timeout')));
    req.end(opts.body);
  });
}

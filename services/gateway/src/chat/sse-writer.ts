import type { FastifyReply } from 'fastify';
import { markStreaming } from '../common/server-timing.js';

/**
 * Writes Server-Sent Events on a hijacked Fastify reply. Every event carries an increasing
 * `id:` so clients can tell where a stream stopped.
 */
export class SseWriter {
  private seq = 0;
  private started = false;

  constructor(
    private readonly reply: FastifyReply,
    private readonly requestId: string,
  ) {}

  private start(): void {
    if (this.started) return;
    this.started = true;
    const headers: Record<string, string> = {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
      'X-Request-Id': this.requestId,
    };
    // Keep headers set earlier by hooks (CORS, security, rate limits) when hijacking.
    for (const [k, v] of Object.entries(this.reply.getHeaders())) {
      if (v !== undefined && !(k.toLowerCase() in lower(headers)))
        headers[k] = Array.isArray(v) ? v.join(', ') : String(v);
    }
    markStreaming(this.reply.request);
    this.reply.hijack();
    this.reply.raw.writeHead(200, headers);
  }

  send(event: string, data: unknown): void {
    this.start();
    if (this.reply.raw.destroyed) return;
    this.seq++;
    this.reply.raw.write(`id: ${this.seq}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  end(): void {
    if (!this.started) this.start();
    if (!this.reply.raw.writableEnded) this.reply.raw.end();
  }
}

function lower(h: Record<string, string>): Record<string, true> {
  return Object.fromEntries(Object.keys(h).map((k) => [k.toLowerCase(), true]));
}

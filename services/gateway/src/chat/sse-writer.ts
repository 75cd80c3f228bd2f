import type { FastifyReply } from 'fastify';
import { markStreaming } from '../common/server-timing.js';

/**
 * Writes Server-Sent Events on a hijacked Fastify reply. Run events carry their `seq` as `id:`,
 * so a client resumes with `Last-Event-ID` (gateway-made events, e.g. a timeout, carry none).
 */
export class SseWriter {
  private started = false;

  constructor(
    private readonly reply: FastifyReply,
    private readonly requestId: string,
  ) {}

  private start(): void {
    if (this.started) {
      return;
    }
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
      if (v !== undefined && !(k.toLowerCase() in lower(headers))) {
        headers[k] = Array.isArray(v) ? v.join(', ') : String(v);
      }
    }
    markStreaming(this.reply.request);
    this.reply.hijack();
    this.reply.raw.writeHead(200, headers);
  }

  send(event: string, data: unknown, id?: number): void {
    this.start();
    if (this.reply.raw.destroyed) {
      return;
    }
    const idLine = id === undefined ? '' : `id: ${id}\n`;
    this.reply.raw.write(`${idLine}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  end(): void {
    if (!this.started) {
      this.start();
    }
    if (!this.reply.raw.writableEnded) {
      this.reply.raw.end();
    }
  }
}

function lower(h: Record<string, string>): Record<string, true> {
  return Object.fromEntries(Object.keys(h).map((k) => [k.toLowerCase(), true]));
}

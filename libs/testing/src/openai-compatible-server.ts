import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One scripted reply: an HTTP error, a tool call, or text streamed in the given chunks. */
export type ScriptedReply =
  { status: number } | { toolCall: { name: string; args: Record<string, unknown> } } | { textChunks: string[] };

/**
 * A minimal OpenAI-compatible `/v1/chat/completions` server on loopback for tests: it replies
 * from a script (streaming SSE like the real API) and records every request body it receives.
 */
export class OpenAiCompatibleTestServer {
  readonly requests: string[] = [];
  private readonly script: ScriptedReply[] = [];
  private server: Server | undefined;

  get baseUrl(): string {
    const port = (this.server?.address() as AddressInfo | null)?.port;
    return `http://127.0.0.1:${port}/v1`;
  }

  enqueue(...replies: ScriptedReply[]): void {
    this.script.push(...replies);
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        this.requests.push(body);
        const reply = this.script.shift() ?? { textChunks: ['(no scripted reply)'] };
        if ('status' in reply) {
          res.writeHead(reply.status, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { message: 'scripted failure', type: 'server_error' } }));
          return;
        }
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const send = (delta: Record<string, unknown>, finish: string | null = null) =>
          res.write(
            `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 0, model: 'test', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`,
          );
        send({ role: 'assistant', content: '' });
        if ('toolCall' in reply) {
          send({
            tool_calls: [
              {
                index: 0,
                id: `call_${this.requests.length}`,
                type: 'function',
                function: { name: reply.toolCall.name, arguments: JSON.stringify(reply.toolCall.args) },
              },
            ],
          });
          send({}, 'tool_calls');
        } else {
          for (const c of reply.textChunks) {
            send({ content: c });
          }
          send({}, 'stop');
        }
        res.write(
          `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 0, model: 'test', choices: [], usage: { prompt_tokens: 100, completion_tokens: 10, total_tokens: 110 } })}\n\n`,
        );
        res.end('data: [DONE]\n\n');
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

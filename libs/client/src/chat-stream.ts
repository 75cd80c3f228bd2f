import type { components } from './generated/openapi.js';
import { problemError, streamInterrupted } from './errors.js';
import { type RawSseEvent, SseParser } from './sse-parser.js';

export type ChatRequest = components['schemas']['ChatRequest'];
export type ChatProposal = NonNullable<components['schemas']['ChatResponse']['proposal']>;

/** One event of a streamed answer; `seq` is the stream offset (the SSE `id:`), when the gateway sends one. */
export type ChatStreamEvent = { seq?: number } & (
  | { type: 'token'; delta: string }
  | { type: 'tool'; name: string; status: 'started' | 'succeeded' | 'failed' }
  /** The run restarted (redelivered) and diverged: drop the text received so far. */
  | { type: 'restart' }
  /** A write (booking, cancellation, rescheduling) to confirm: send `confirm: {proposal_id}` with the next turn. */
  | ({ type: 'proposal' } & ChatProposal)
  | { type: 'done'; session_id: string; message_id: string; content: string }
  | { type: 'error'; code: string; message: string }
  /** An event this client version does not know (newer gateways may add some). */
  | { type: 'other'; event: string; data: unknown }
);

export interface StreamChatOptions {
  signal?: AbortSignal;
  /** How many times a dropped stream is resumed from its last event (default 3). */
  maxResumes?: number;
}

export interface StreamContext {
  baseUrl: string;
  fetch: typeof fetch;
  headers: () => Record<string, string>;
}

const KNOWN = new Set(['token', 'tool', 'restart', 'proposal', 'done', 'error']);

function toEvent(raw: RawSseEvent): ChatStreamEvent | undefined {
  if (!raw.data) {
    return undefined;
  }
  const seq = raw.id !== undefined && /^\d+$/.test(raw.id) ? Number(raw.id) : undefined;
  const data = JSON.parse(raw.data) as Record<string, unknown>;
  if (!KNOWN.has(raw.event)) {
    return { seq, type: 'other', event: raw.event, data };
  }
  return { seq, type: raw.event, ...data } as ChatStreamEvent;
}

async function* readSse(res: Response): AsyncGenerator<RawSseEvent> {
  if (!res.body) {
    return;
  }
  // Node's Response types its body loosely; it is bytes in every runtime.
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const parser = new SseParser();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        return;
      }
      yield* parser.push(decoder.decode(value, { stream: true }));
    }
  } finally {
    reader.cancel().catch(() => undefined);
  }
}

/**
 * `POST /v1/ai/chat` as Server-Sent Events. When the connection drops before `done`/`error`, the
 * stream resumes from the last event received: `GET /v1/ai/chat/{message_id}/events?after=<id>`
 * with `Last-Event-ID`, so no token is lost or repeated.
 */
export async function* streamChat(
  ctx: StreamContext,
  body: ChatRequest,
  opts: StreamChatOptions = {},
): AsyncGenerator<ChatStreamEvent, void, undefined> {
  const { signal, maxResumes = 3 } = opts;
  let res = await ctx.fetch(`${ctx.baseUrl}/v1/ai/chat`, {
    method: 'POST',
    headers: { ...ctx.headers(), 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify(body),
    signal,
  });
  if (!res.ok) {
    throw await problemError(res);
  }
  const messageId = res.headers.get('x-message-id');
  let last: string | undefined;
  for (let resumes = 0; ; resumes++) {
    try {
      for await (const raw of readSse(res)) {
        if (raw.id !== undefined) {
          last = raw.id;
        }
        const event = toEvent(raw);
        if (!event) {
          continue;
        }
        yield event;
        if (event.type === 'done' || event.type === 'error') {
          return;
        }
      }
    } catch (err) {
      // A dropped connection is resumed below; the caller's own abort is not.
      if (signal?.aborted || err instanceof SyntaxError) {
        throw err;
      }
    }
    if (!messageId || resumes >= maxResumes) {
      throw streamInterrupted();
    }
    const after = last === undefined ? '' : `?after=${encodeURIComponent(last)}`;
    res = await ctx.fetch(`${ctx.baseUrl}/v1/ai/chat/${encodeURIComponent(messageId)}/events${after}`, {
      headers: {
        ...ctx.headers(),
        accept: 'text/event-stream',
        ...(last === undefined ? {} : { 'last-event-id': last }),
      },
      signal,
    });
    if (!res.ok) {
      throw await problemError(res);
    }
  }
}

import { streamChat } from './chat-stream.js';

const sse = (text: string, headers: Record<string, string> = {}): Response =>
  new Response(new Blob([text]).stream(), {
    status: 200,
    headers: { 'content-type': 'text/event-stream', ...headers },
  });

describe('streamChat', () => {
  it('resumes a dropped stream from the last event id (after= and Last-Event-ID), losing and repeating nothing', async () => {
    const calls: { url: string; init?: RequestInit }[] = [];
    const replies = [
      // The first connection drops after two events (no done).
      sse('id: 1\nevent: token\ndata: {"delta":"Olá "}\n\nid: 2\nevent: token\ndata: {"delta":"mun"}\n\n', {
        'x-message-id': 'm-1',
      }),
      sse(
        'id: 3\nevent: token\ndata: {"delta":"do"}\n\nid: 4\nevent: done\ndata: {"session_id":"s","message_id":"m-1","content":"Olá mundo"}\n\n',
      ),
    ];
    const fetchFake = (url: string | URL | Request, init?: RequestInit): Promise<Response> => {
      calls.push({ url: url instanceof Request ? url.url : url.toString(), init });
      return Promise.resolve(replies.shift()!);
    };
    const ctx = {
      baseUrl: 'http://gw',
      fetch: fetchFake,
      headers: () => ({ authorization: 'Bearer t' }),
    };
    const events = [];
    for await (const e of streamChat(ctx, { message: 'oi' })) {
      events.push(e);
    }
    expect(events.map((e) => [e.type, e.seq])).toEqual([
      ['token', 1],
      ['token', 2],
      ['token', 3],
      ['done', 4],
    ]);
    expect(calls.map((c) => c.url)).toEqual(['http://gw/v1/ai/chat', 'http://gw/v1/ai/chat/m-1/events?after=2']);
    expect(calls[1]?.init?.headers).toMatchObject({ 'last-event-id': '2', authorization: 'Bearer t' });
  });

  it('types a proposal event with its fields, and passes an unknown event through as other', async () => {
    const body =
      'id: 1\nevent: proposal\ndata: {"proposal_id":"p-0123456789abcdef","action":"book","summary":"Maria amanhã 09:00","expires_at":"2026-12-01T12:00:00Z"}\n\n' +
      'id: 2\nevent: novelty\ndata: {"x":1}\n\n' +
      'id: 3\nevent: done\ndata: {"session_id":"s","message_id":"m","content":"Confirma?"}\n\n';
    const ctx = {
      baseUrl: '',
      fetch: () => Promise.resolve(sse(body, { 'x-message-id': 'm' })),
      headers: () => ({}),
    };
    const events = [];
    for await (const e of streamChat(ctx, { message: 'marca a Maria amanhã 9h' })) {
      events.push(e);
    }
    expect(events).toEqual([
      {
        seq: 1,
        type: 'proposal',
        proposal_id: 'p-0123456789abcdef',
        action: 'book',
        summary: 'Maria amanhã 09:00',
        expires_at: '2026-12-01T12:00:00Z',
      },
      { seq: 2, type: 'other', event: 'novelty', data: { x: 1 } },
      { seq: 3, type: 'done', session_id: 's', message_id: 'm', content: 'Confirma?' },
    ]);
  });

  it('gives up with stream_interrupted after maxResumes, and throws the problem of a refused call', async () => {
    const dropping = () =>
      Promise.resolve(sse('id: 1\nevent: token\ndata: {"delta":"x"}\n\n', { 'x-message-id': 'm' }));
    const ctx = { baseUrl: '', fetch: dropping as typeof fetch, headers: () => ({}) };
    await expect(
      (async () => {
        for await (const _e of streamChat(ctx, { message: 'oi' }, { maxResumes: 1 })) {
          void _e;
        }
      })(),
    ).rejects.toMatchObject({ code: 'stream_interrupted' });

    const refused = () =>
      Promise.resolve(
        new Response(JSON.stringify({ status: 429, code: 'rate_limited', detail: 'Slow down.' }), {
          status: 429,
          headers: { 'content-type': 'application/problem+json', 'retry-after': '7' },
        }),
      );
    await expect(
      streamChat({ baseUrl: '', fetch: refused, headers: () => ({}) }, { message: 'oi' }).next(),
    ).rejects.toMatchObject({ status: 429, code: 'rate_limited', retryAfter: 7, message: 'Slow down.' });
  });
});

import { SseParser } from './sse-parser.js';

describe('SseParser', () => {
  it('parses events split across chunks, with ids, multi-line data and comments', () => {
    const p = new SseParser();
    expect(p.push(': keep-alive\n\nid: 1\nevent: tok')).toEqual([]);
    expect(p.push('en\ndata: {"delta":"Ol')).toEqual([]);
    expect(p.push('á"}\n\nid: 2\r\nevent: done\r\ndata: a\r\ndata: b\r\n\r\n')).toEqual([
      { id: '1', event: 'token', data: '{"delta":"Olá"}' },
      { id: '2', event: 'done', data: 'a\nb' },
    ]);
  });

  it('defaults the event name to "message" and keeps an id-only event (it moves the offset)', () => {
    const p = new SseParser();
    expect(p.push('data: x\n\nid: 7\n\n')).toEqual([
      { id: undefined, event: 'message', data: 'x' },
      { id: '7', event: 'message', data: '' },
    ]);
  });
});

import { wantsEventStream } from './content-negotiation.js';

describe('wantsEventStream', () => {
  it.each([
    [undefined, false],
    ['application/json', false],
    ['*/*', false],
    ['text/event-stream', true],
    ['text/event-stream, application/json;q=0.9', true],
    ['application/json, text/event-stream;q=0.5', false],
    ['text/event-stream;q=0', false],
    ['TEXT/EVENT-STREAM', true],
  ])('Accept %p → %p', (accept, expected) => {
    expect(wantsEventStream(accept)).toBe(expected);
  });
});

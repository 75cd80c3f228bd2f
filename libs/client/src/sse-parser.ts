/** One Server-Sent Event as it arrived: `id:` (the stream offset), `event:` and the `data:` lines. */
export interface RawSseEvent {
  id?: string;
  event: string;
  data: string;
}

/**
 * Incremental text/event-stream parser (the WHATWG rules the gateway relies on): events end with
 * a blank line, `data:` lines join with "\n", comments (`:`) are ignored, CRLF or LF line ends.
 */
export class SseParser {
  private buffer = '';

  /** Feeds a decoded chunk; returns the events it completed. */
  push(chunk: string): RawSseEvent[] {
    this.buffer += chunk;
    const events: RawSseEvent[] = [];
    for (;;) {
      const m = /\r\n\r\n|\n\n|\r\r/.exec(this.buffer);
      if (!m) {
        return events;
      }
      const block = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      const ev = parseBlock(block);
      if (ev) {
        events.push(ev);
      }
    }
  }
}

function parseBlock(block: string): RawSseEvent | undefined {
  let id: string | undefined;
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split(/\r\n|\n|\r/)) {
    if (!line || line.startsWith(':')) {
      continue;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) {
      value = value.slice(1);
    }
    if (field === 'id') {
      id = value;
    } else if (field === 'event') {
      event = value;
    } else if (field === 'data') {
      data.push(value);
    }
  }
  if (data.length === 0 && id === undefined) {
    return undefined;
  }
  return { id, event, data: data.join('\n') };
}

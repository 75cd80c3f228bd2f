/**
 * True when the client prefers `text/event-stream` over JSON. Quality values are honoured so
 * `Accept: text/event-stream;q=0.5, application/json` still gets JSON.
 */
export function wantsEventStream(accept: string | undefined): boolean {
  if (!accept) {
    return false;
  }
  let sse = -1;
  let json = -1;
  for (const part of accept.split(',')) {
    const [type = '', ...params] = part.trim().toLowerCase().split(';');
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (Number.isNaN(q)) {
      continue;
    }
    if (type === 'text/event-stream') {
      sse = Math.max(sse, q);
    } else if (type === 'application/json' || type === '*/*' || type === 'application/*') {
      json = Math.max(json, q);
    }
  }
  return sse > 0 && sse >= json;
}

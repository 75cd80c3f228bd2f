import type { FastifyRequest } from 'fastify';

// Keyed by the raw Node request so guards, handlers and hooks all see the same entries.
const timings = new WeakMap<object, Map<string, number>>();

/**
 * Records a phase for the `Server-Timing` header (`auth`, `upstream`, …). Durations of the same
 * name add up (e.g. two upstream calls). Call it from guards and handlers.
 */
export function recordTiming(req: FastifyRequest, name: string, ms: number): void {
  let m = timings.get(req.raw);
  if (!m) {
    timings.set(req.raw, (m = new Map<string, number>()));
  }
  m.set(name, (m.get(name) ?? 0) + ms);
}

/** Times `fn` as phase `name`. */
export async function timed<T>(req: FastifyRequest, name: string, fn: () => Promise<T>): Promise<T> {
  const start = performance.now();
  try {
    return await fn();
  } finally {
    recordTiming(req, name, performance.now() - start);
  }
}

/** `total;dur=12.3, auth;dur=1.2, upstream;dur=8.0` (total = time so far). */
export function serverTimingHeader(req: FastifyRequest, totalMs: number): string {
  const parts = [`total;dur=${totalMs.toFixed(1)}`];
  for (const [name, ms] of timings.get(req.raw) ?? []) {
    parts.push(`${name};dur=${ms.toFixed(1)}`);
  }
  return parts.join(', ');
}

const streaming = new WeakSet<object>();

/** Marks a response as a long-lived stream (SSE): no slow-request warning. */
export function markStreaming(req: FastifyRequest): void {
  streaming.add(req.raw);
}

/**
 * Lifts CONNECTION_TIMEOUT_MS (socket idle timeout) for a request whose handler is bounded by
 * its own timeouts (the agent call: AGENT_TIMEOUT_MS per silence), so waiting for an agent or a
 * silent SSE stream is not mistaken for a dead client.
 */
export function exemptFromIdleTimeout(req: FastifyRequest): void {
  req.raw.socket?.setTimeout(0);
}

export function isStreaming(req: FastifyRequest): boolean {
  return streaming.has(req.raw);
}

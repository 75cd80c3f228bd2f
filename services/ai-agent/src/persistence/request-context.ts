import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The gateway's request id of the run in progress, so every database transaction a run opens
 * (tools, memory) records it in its audit rows without threading it through the ports.
 */
const storage = new AsyncLocalStorage<{ requestId?: string; clientRequestId?: string }>();

/** `clientRequestId`: the client's own X-Request-Id, kept as an audit detail only. */
export function runWithRequestId<T>(requestId: string | undefined, fn: () => T, clientRequestId?: string): T {
  return storage.run({ requestId, clientRequestId }, fn);
}

export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}

export function currentClientRequestId(): string | undefined {
  return storage.getStore()?.clientRequestId;
}

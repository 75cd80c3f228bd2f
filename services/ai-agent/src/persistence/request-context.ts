import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The gateway's request id of the run in progress, so every database transaction a run opens
 * (tools, memory) records it in its audit rows without threading it through the ports.
 */
const storage = new AsyncLocalStorage<{ requestId?: string }>();

export function runWithRequestId<T>(requestId: string | undefined, fn: () => T): T {
  return storage.run({ requestId }, fn);
}

export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}

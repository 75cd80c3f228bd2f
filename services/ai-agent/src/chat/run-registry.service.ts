import { Injectable } from '@nestjs/common';

/**
 * Tracks the runs this replica is executing, so they can be cancelled by message id and
 * awaited on shutdown.
 */
@Injectable()
export class RunRegistry {
  private readonly runs = new Map<string, AbortController>();
  private idleWaiters: (() => void)[] = [];

  get size(): number {
    return this.runs.size;
  }

  start(messageId: string): AbortController {
    const controller = new AbortController();
    this.runs.get(messageId)?.abort(new Error('superseded'));
    this.runs.set(messageId, controller);
    return controller;
  }

  finish(messageId: string, controller: AbortController): void {
    if (this.runs.get(messageId) === controller) {
      this.runs.delete(messageId);
    }
    if (this.runs.size === 0) {
      for (const wake of this.idleWaiters.splice(0)) {
        wake();
      }
    }
  }

  cancel(messageId: string): boolean {
    const run = this.runs.get(messageId);
    run?.abort(new Error('cancelled'));
    return run !== undefined;
  }

  /** Resolves true once no run is left, or false when `timeoutMs` passes first. */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.runs.size === 0) {
      return true;
    }
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(this.runs.size === 0), timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  abortAll(reason: string): void {
    for (const c of this.runs.values()) {
      c.abort(new Error(reason));
    }
  }
}

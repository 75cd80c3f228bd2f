import { Injectable } from '@nestjs/common';

interface Running {
  /** The agent message id of the attempt in progress (a retry gets a new one). */
  attemptId: string;
  cancelled: boolean;
}

/**
 * The chat turns this gateway replica is relaying, per user, so `POST /v1/ai/chat/:id/cancel`
 * can only cancel the caller's own running message (by the `message_id` the gateway returned in
 * `X-Message-Id`, or the client's `client_message_id`). Anything else is not found.
 */
@Injectable()
export class RunningChats {
  private readonly byKey = new Map<string, Running>();

  /** Tracks a turn under each of its ids; the returned function forgets it. */
  begin(userId: string, ids: readonly string[]): { entry: Running; end: () => void } {
    const entry: Running = { attemptId: ids[0], cancelled: false };
    const keys = ids.map((id) => key(userId, id));
    for (const k of keys) this.byKey.set(k, entry);
    return {
      entry,
      end: () => {
        for (const k of keys) if (this.byKey.get(k) === entry) this.byKey.delete(k);
      },
    };
  }

  /** Marks the caller's running turn cancelled and returns the attempt to abort; undefined when none. */
  cancel(userId: string, id: string): string | undefined {
    const entry = this.byKey.get(key(userId, id));
    if (!entry) return undefined;
    entry.cancelled = true;
    return entry.attemptId;
  }

  get size(): number {
    return new Set(this.byKey.values()).size;
  }
}

function key(userId: string, id: string): string {
  return `${userId}\u0000${id}`;
}

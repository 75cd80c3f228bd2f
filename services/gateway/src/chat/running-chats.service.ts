import { Injectable } from '@nestjs/common';

/**
 * The chat turns this gateway replica started, per user, by the client's `client_message_id`,
 * so `POST /v1/ai/chat/:id/cancel` also accepts that id. Message ids need no registry: their
 * owner is in the run's event log, readable from every replica.
 */
@Injectable()
export class RunningChats {
  private readonly byKey = new Map<string, string>();

  /** Tracks a turn under each client id; the returned function forgets it. */
  begin(userId: string, clientIds: readonly string[], messageId: string): { end: () => void } {
    const keys = clientIds.map((id) => key(userId, id));
    for (const k of keys) {
      this.byKey.set(k, messageId);
    }
    return {
      end: () => {
        for (const k of keys) {
          if (this.byKey.get(k) === messageId) {
            this.byKey.delete(k);
          }
        }
      },
    };
  }

  lookup(userId: string, clientId: string): string | undefined {
    return this.byKey.get(key(userId, clientId));
  }

  get size(): number {
    return new Set(this.byKey.values()).size;
  }
}

function key(userId: string, id: string): string {
  return `${userId}\u0000${id}`;
}

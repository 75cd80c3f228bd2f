import { chatConfirmSchema, chatMessageTextSchema, clientMessageIdSchema } from '@neonpro/contracts';
import { z } from 'zod';

/** Socket.IO namespace and event names of the realtime chat (the public contract). */
export const CHAT_NAMESPACE = '/chat';
export const SocketEvent = {
  Send: 'chat:send',
  Cancel: 'chat:cancel',
  Join: 'session:join',
  Leave: 'session:leave',
  Token: 'chat:token',
  Tool: 'chat:tool',
  Done: 'chat:done',
  /** A write to confirm: the server's summary, shown as a card with Confirm and Cancel. */
  Proposal: 'chat:proposal',
  /** A redelivered run diverged from what was streamed: drop the partial text of this message. */
  Restart: 'chat:restart',
  Error: 'chat:error',
  Expired: 'session:expired',
} as const;

export const chatSendSchema = z.strictObject({
  message: chatMessageTextSchema,
  session_id: z.uuid().optional(),
  client_message_id: clientMessageIdSchema,
  /** The card's Confirm button: confirms the session's pending proposal, and only that one. */
  confirm: chatConfirmSchema.optional(),
});
export type ChatSend = z.infer<typeof chatSendSchema>;

export const chatCancelSchema = z.strictObject({ message_id: z.uuid() });
export const sessionRefSchema = z.strictObject({ session_id: z.uuid() });
/** `session:join`: optionally resume one run of the session after the `seq` the client last saw. */
export const sessionJoinSchema = z
  .strictObject({
    session_id: z.uuid(),
    message_id: z.uuid().optional(),
    after: z.number().int().min(0).optional(),
  })
  .refine((j) => j.after === undefined || j.message_id !== undefined, {
    error: 'after needs message_id',
    path: ['after'],
  });

export interface AckError {
  code: string;
  message: string;
  retry_after?: number;
  errors?: { field: string; message: string }[];
}
export type Ack<T extends object = object> = ({ ok: true } & T) | { ok: false; error: AckError };

/** Room of a chat session: every socket of its owner joined to it sees the stream. */
export const sessionRoom = (sessionId: string): string => `session:${sessionId}`;

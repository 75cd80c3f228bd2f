import { clientMessageIdSchema } from '@neonpro/contracts';
import { z } from 'zod';

const limit = z.coerce.number().int().min(1).max(100).optional();
const cursor = z.string().min(1).max(500).optional();

export const sessionIdParamSchema = z.strictObject({ id: z.guid('must be a UUID') });
export const pageQuerySchema = z.strictObject({ limit, cursor });
export type PageQuery = z.infer<typeof pageQuerySchema>;

/** The gateway's message id (a UUID) or the client's own `client_message_id`. */
export const cancelParamSchema = z.strictObject({
  message_id: z.union([z.guid(), clientMessageIdSchema]),
});

export const chatSessionViewSchema = z.object({
  id: z.guid(),
  title: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});
export const chatMessageViewSchema = z.object({
  id: z.guid(),
  role: z.enum(['user', 'assistant', 'tool']),
  content: z.string(),
  client_message_id: z.string().nullable(),
  created_at: z.string(),
});
export type ChatSessionView = z.infer<typeof chatSessionViewSchema>;
export type ChatMessageView = z.infer<typeof chatMessageViewSchema>;

import { chatRequestBodySchema, chatResponseSchema, clientMessageIdSchema } from '@neonpro/contracts';
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

export const chatSessionViewSchema = z
  .object({
    id: z.guid(),
    title: z.string().nullable(),
    created_at: z.string(),
    updated_at: z
      .string()
      .describe('When the user last wrote in the session (its creation at first); the list is ordered by it.'),
  })
  .meta({ id: 'ChatSession' });
export const chatMessageViewSchema = z
  .object({
    id: z.guid(),
    role: z.enum(['user', 'assistant', 'tool']),
    content: z.string(),
    client_message_id: z.string().nullable(),
    created_at: z.string(),
  })
  .meta({ id: 'ChatMessage' });
export type ChatSessionView = z.infer<typeof chatSessionViewSchema>;
export type ChatMessageView = z.infer<typeof chatMessageViewSchema>;

export const chatSessionPageSchema = z
  .object({ data: z.array(chatSessionViewSchema), next_cursor: z.string().nullable() })
  .meta({ id: 'ChatSessionPage' });
export const chatMessagePageSchema = z
  .object({ data: z.array(chatMessageViewSchema), next_cursor: z.string().nullable() })
  .meta({ id: 'ChatMessagePage' });
export const cancelResponseSchema = z
  .object({ message_id: z.string(), status: z.literal('cancelling') })
  .meta({ id: 'ChatCancel' });

// The documented shapes of POST /v1/ai/chat: the handler validates with the contracts' schemas,
// these are the same schemas with a name and examples for the document.
export const chatRequestDocSchema = chatRequestBodySchema.meta({
  id: 'ChatRequest',
  examples: [
    {
      message: 'quais consultas a Dra. Lima tem amanhã?',
      session_id: '1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b',
      client_message_id: 'web-1',
    },
  ],
});
export const chatResponseDocSchema = chatResponseSchema.meta({
  id: 'ChatResponse',
  examples: [
    {
      session_id: '1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b',
      message_id: '7d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
      content: 'Dra. Lima tem 3 consultas amanhã (02/12):\n- 09:00–09:45 · Botox · Maria Araújo Pereira',
    },
  ],
});

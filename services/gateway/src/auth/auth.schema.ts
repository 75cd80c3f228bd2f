import { CLINIC_ROLES } from '@neonpro/contracts';
import { z } from 'zod';

export const loginBodySchema = z
  .strictObject({
    email: z.email().max(320),
    password: z.string().min(1).max(200),
  })
  .meta({ examples: [{ email: 'admin@aurora.demo', password: 'neonpro-demo' }] });
export type LoginBody = z.output<typeof loginBodySchema>;

export const refreshBodySchema = z.strictObject({
  refresh_token: z.string().min(1).max(2000),
});
export type RefreshBody = z.output<typeof refreshBodySchema>;

export const sessionResponseSchema = z
  .object({
    access_token: z.string(),
    refresh_token: z.string(),
    expires_in: z.number().int(),
    token_type: z.literal('bearer'),
    user: z.object({ id: z.string(), email: z.string().nullable() }),
  })
  .meta({
    id: 'Session',
    examples: [
      {
        access_token: 'eyJhbGciOiJFUzI1NiIsImtpZCI6ImRldi0xIn0.eyJzdWIiOiI…',
        refresh_token: 'v1.MtRk2aV…',
        expires_in: 3600,
        token_type: 'bearer',
        user: { id: '5d0f6a3e-1c2b-4e8f-9a7d-3b2c1d0e9f8a', email: 'admin@aurora.demo' },
      },
    ],
  });
export type SessionResponse = z.output<typeof sessionResponseSchema>;

export const principalSchema = z
  .object({
    user_id: z.string(),
    email: z.string().nullable(),
    clinic_id: z.string(),
    role: z.enum(CLINIC_ROLES),
  })
  .meta({ id: 'Principal' });

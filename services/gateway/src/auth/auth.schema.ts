import { CLINIC_ROLES } from '@neonpro/contracts';
import { z } from 'zod';

export const loginBodySchema = z.strictObject({
  email: z.email().max(320),
  password: z.string().min(1).max(200),
});
export type LoginBody = z.output<typeof loginBodySchema>;

export const refreshBodySchema = z.strictObject({
  refresh_token: z.string().min(1).max(2000),
});
export type RefreshBody = z.output<typeof refreshBodySchema>;

export const sessionResponseSchema = z.object({
  access_token: z.string(),
  refresh_token: z.string(),
  expires_in: z.number().int(),
  token_type: z.literal('bearer'),
  user: z.object({ id: z.string(), email: z.string().nullable() }),
});
export type SessionResponse = z.output<typeof sessionResponseSchema>;

export const principalSchema = z.object({
  user_id: z.string(),
  email: z.string().nullable(),
  clinic_id: z.string(),
  role: z.enum(CLINIC_ROLES),
});

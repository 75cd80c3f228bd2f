import { ERROR_CODES } from '@neonpro/contracts';
import { z } from 'zod';

/** RFC 9457 problem+json as the gateway sends it (see problem.filter.ts); the documented error shape. */
export const problemSchema = z
  .looseObject({
    type: z.string().meta({ description: '`urn:neonpro:problem:<code>`' }),
    title: z.string(),
    status: z.int().min(400).max(599),
    detail: z.string().meta({ description: 'Human-readable; may change. Branch on `code`, never on this.' }),
    instance: z.string().meta({ description: 'The request path.' }),
    code: z.enum(ERROR_CODES).meta({ description: 'Stable machine-readable error code.' }),
    request_id: z.string().meta({ description: 'Same as the X-Request-Id header; quote it when reporting.' }),
    errors: z
      .array(z.object({ field: z.string(), message: z.string(), code: z.string().optional() }))
      .optional()
      .meta({ description: 'One entry per invalid field (400 invalid_request).' }),
  })
  .meta({
    id: 'Problem',
    description: 'RFC 9457 problem details with a stable `code`.',
    examples: [
      {
        type: 'urn:neonpro:problem:invalid_request',
        title: 'Bad Request',
        status: 400,
        detail: 'The patient is invalid.',
        instance: '/v1/patients',
        code: 'invalid_request',
        request_id: '4f9c2a1e-6b0d-4d59-9b1e-2f7e0c8a5d31',
        errors: [{ field: 'cpf', message: 'must be a valid CPF (11 digits with valid check digits)' }],
      },
    ],
  });

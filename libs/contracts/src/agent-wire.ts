import type { z } from 'zod';
import {
  type AgentCancelRequest,
  agentCancelRequestSchema,
  type AgentChatRequest,
  agentChatRequestSchema,
  type AgentPresence,
  agentPresenceSchema,
  type RunEvent,
  runEventSchema,
} from './chat.schema.js';

/**
 * The wire codec of the agent bus: JSON bodies validated with the contract schemas on the way
 * in. The gateway, the agents and the test peers all encode and decode through here, so the
 * format has exactly one definition.
 */
export type Decoded<T> = { ok: true; value: T } | { ok: false; error: string };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function encode(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

function decode<S extends z.ZodType>(schema: S, bytes: Uint8Array, what: string): Decoded<z.output<S>> {
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(bytes));
  } catch {
    return { ok: false, error: `The ${what} is not valid JSON.` };
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) {
    return { ok: true, value: parsed.data };
  }
  const fields = parsed.error.issues.map((i) => i.path.join('.') || '(root)').join(', ');
  return { ok: false, error: `The ${what} does not match its contract (${fields}).` };
}

export const agentWire = {
  encodeRunRequest: (r: AgentChatRequest): Uint8Array => encode(agentChatRequestSchema.parse(r)),
  decodeRunRequest: (b: Uint8Array): Decoded<AgentChatRequest> => decode(agentChatRequestSchema, b, 'run request'),
  encodeEvent: (e: RunEvent): Uint8Array => encode(e),
  decodeEvent: (b: Uint8Array): Decoded<RunEvent> => decode(runEventSchema, b, 'run event'),
  encodeCancel: (c: AgentCancelRequest): Uint8Array => encode(c),
  decodeCancel: (b: Uint8Array): Decoded<AgentCancelRequest> => decode(agentCancelRequestSchema, b, 'cancel'),
  encodePresence: (p: AgentPresence): Uint8Array => encode(p),
  decodePresence: (b: Uint8Array): Decoded<AgentPresence> => decode(agentPresenceSchema, b, 'presence reply'),
};

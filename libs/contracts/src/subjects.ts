/** NATS queue group shared by every ai-agent replica, so each request goes to exactly one. */
export const AGENT_QUEUE_GROUP = 'ai-agents';

/** Header names carried on NATS messages between gateway and agents. */
export const NATS_HEADERS = {
  /** The gateway's own request id: keys logs and audit rows. */
  requestId: 'x-request-id',
  /** The client's X-Request-Id (sanitised): logged and kept in audit details, never a key. */
  clientRequestId: 'x-client-request-id',
  traceparent: 'traceparent',
  tracestate: 'tracestate',
  /** JSON of the caller's verified JWT claims (set by the gateway only). */
  claims: 'x-neonpro-claims',
} as const;

/** Unprefixed NATS patterns; the deployed subject is `<prefix>.<pattern>` (see {@link agentSubjects}). */
export const AGENT_PATTERNS = {
  chat: 'agent.chat',
  cancel: 'agent.cancel',
} as const;

export interface AgentSubjects {
  /** Request/stream subject: one chat turn, answered by a stream of {@link AgentEvent}s. */
  readonly chat: string;
  /** Broadcast subject (no queue group): every replica hears it and aborts the run it owns. */
  readonly cancel: string;
}

/**
 * Subjects are namespaced by an optional prefix so several environments (or parallel test
 * suites) can share one NATS server without hearing each other.
 */
export function agentSubjects(prefix = ''): AgentSubjects {
  const p = prefix === '' || prefix.endsWith('.') ? prefix : `${prefix}.`;
  return { chat: `${p}${AGENT_PATTERNS.chat}`, cancel: `${p}${AGENT_PATTERNS.cancel}` };
}

/**
 * The agent bus. Fixed names: the KEDA trigger and the NATS account permissions are written
 * against them (see the root README, "NATS credentials"). A subject prefix (tests, shared
 * servers) namespaces every subject and suffixes the stream names; production uses none.
 */
export const AGENT_RUNS_STREAM = 'AGENT_RUNS';
export const AGENT_EVENTS_STREAM = 'AGENT_EVENTS';
/** The one durable pull consumer of AGENT_RUNS, shared by every agent replica. */
export const AGENT_CONSUMER = 'ai-agents';
/** NATS monitoring port and account KEDA's `nats-jetstream` trigger reads the consumer lag from. */
export const NATS_MONITORING_PORT = 8222;
export const NATS_ACCOUNT = '$G';
/** How long a run's events stay replayable (reattach window). */
export const AGENT_EVENTS_MAX_AGE_MS = 15 * 60 * 1000;

/** Unprefixed subjects and patterns. */
export const AGENT_PATTERNS = {
  /** Work queue subjects (AGENT_RUNS captures `agent.runs.>`). */
  runs: 'agent.runs.>',
  chat: 'agent.runs.chat',
  /** Per-run event log (AGENT_EVENTS captures `agent.events.>`): `agent.events.<message_id>`. */
  events: 'agent.events',
  /** Core NATS broadcast: every replica hears it and aborts (or skips) the run. */
  cancel: 'agent.cancel',
  /** Core NATS request: any live, non-draining agent answers (no responders = no agent). */
  presence: 'agent.presence',
} as const;

/** Header names carried on NATS messages between gateway and agents. */
export const NATS_HEADERS = {
  /** The gateway's own request id: keys logs and audit rows. */
  requestId: 'x-request-id',
  /** The client's X-Request-Id (sanitised): logged and kept in audit details, never a key. */
  clientRequestId: 'x-client-request-id',
  traceparent: 'traceparent',
  tracestate: 'tracestate',
  /** The gateway's signed run grant (compact JWS, see run-grant.ts). */
  grant: 'x-neonpro-grant',
} as const;

export interface AgentBus {
  readonly runsStream: string;
  readonly eventsStream: string;
  readonly consumer: string;
  /** Subjects captured by the runs stream. */
  readonly runsSubjects: string;
  /** Subject a chat run is published on. */
  readonly chat: string;
  /** Subjects captured by the events stream. */
  readonly eventsSubjects: string;
  readonly cancel: string;
  readonly presence: string;
  /** The event subject of one run. */
  events(messageId: string): string;
}

/**
 * Subjects and stream names for a prefix. Several environments (or parallel test suites) can
 * share one NATS server without hearing each other: `it-3` → `it-3.agent.runs.chat`, stream
 * `AGENT_RUNS_it-3`.
 */
export function agentBus(prefix = ''): AgentBus {
  const p = prefix === '' || prefix.endsWith('.') ? prefix : `${prefix}.`;
  const suffix = p === '' ? '' : `_${p.slice(0, -1).replace(/[^A-Za-z0-9_-]/g, '_')}`;
  return {
    runsStream: `${AGENT_RUNS_STREAM}${suffix}`,
    eventsStream: `${AGENT_EVENTS_STREAM}${suffix}`,
    consumer: AGENT_CONSUMER,
    runsSubjects: `${p}${AGENT_PATTERNS.runs}`,
    chat: `${p}${AGENT_PATTERNS.chat}`,
    eventsSubjects: `${p}${AGENT_PATTERNS.events}.>`,
    cancel: `${p}${AGENT_PATTERNS.cancel}`,
    presence: `${p}${AGENT_PATTERNS.presence}`,
    events: (messageId) => `${p}${AGENT_PATTERNS.events}.${messageId}`,
  };
}

export const AGENT_NATS_SERVER = Symbol('AGENT_NATS_SERVER');

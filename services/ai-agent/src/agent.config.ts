import type { AgentConfig } from '@neonpro/config';

export const AGENT_CONFIG = Symbol('AGENT_CONFIG');

export type AgentRuntimeConfig = AgentConfig & { instanceId: string };

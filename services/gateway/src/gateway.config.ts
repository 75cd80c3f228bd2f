import type { GatewayConfig } from '@neonpro/config';

export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');

export type GatewayRuntimeConfig = GatewayConfig & { instanceId: string };

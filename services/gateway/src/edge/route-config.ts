import { FASTIFY_ROUTE_CONFIG_METADATA } from '@nestjs/platform-fastify/constants.js';
import type { FastifyContextConfig } from 'fastify';

/**
 * Adds entries to a Nest handler's Fastify route config, keeping what it already has (`@RouteConfig`
 * replaces the whole object): how the edge's markers (`DatabaseAdmitted`, `FailsFastWhileAgentDown`)
 * reach the route hooks that read them.
 */
export function addRouteConfig(handler: object, entries: FastifyContextConfig): void {
  const config = (Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, handler) ?? {}) as Record<string, unknown>;
  Reflect.defineMetadata(FASTIFY_ROUTE_CONFIG_METADATA, { ...config, ...entries }, handler);
}

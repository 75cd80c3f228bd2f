import type { UpstreamUnavailableError } from '@neonpro/resilience';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, RouteOptions } from 'fastify';
import type { ProblemException } from '../common/problem.js';
import { agentRunRefusal } from '../common/upstream-problem.js';
import { addRouteConfig } from './route-config.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `agent`: the route starts an agent run; an open agent breaker refuses it before any other work. */
    failFast?: 'agent';
  }
}

/**
 * Marks a route that starts an agent run (Fastify route config `failFast: 'agent'`): while the
 * agent breaker is open, its callers are refused before anything else is done for them. Read by
 * `AgentFailFast` (before Nest) and by the rate-limit guard (callers not yet known here). Keeps
 * any route config the method already has.
 */
export function FailsFastWhileAgentDown(): MethodDecorator {
  return (_target, _key, descriptor) => {
    addRouteConfig(descriptor.value as object, { failFast: 'agent' });
  };
}

/** Whether a route's config marks it as starting an agent run. */
export function failsFast(config: { failFast?: 'agent' } | undefined): boolean {
  return config?.failFast === 'agent';
}

/** The two questions the hook asks of the agent policy (`ResiliencePolicy`). */
export interface AgentBreaker {
  /** Milliseconds until an open breaker lets a probe through; 0 when closed or due. */
  retryAfterMs(): number;
  /** The refusal, counted as a rejection; undefined when the breaker lets calls through. */
  refusal(): UpstreamUnavailableError | undefined;
}

export interface AgentFailFastOptions {
  breaker: AgentBreaker;
  /**
   * Whether the request's caller is a verified clinic member known without waiting (token and
   * membership cached). Anyone else goes on to Nest, whose guards answer 401/403 first, or refuse
   * there once the caller is known.
   */
  knownCaller: (req: FastifyRequest) => boolean;
  /** Answers the refusal (`agentRunRefusal`'s 503 problem); the request goes no further. */
  refuse: (req: FastifyRequest, reply: FastifyReply, problem: ProblemException) => void;
}

/**
 * Refuses a known caller's run while the agent breaker is open, in the route's `onRequest`: before
 * its body is read and before Nest builds a context, runs three guards and the exception filter for
 * it. The answer is the one the rate-limit guard gives (and counts) later on the same request:
 * `agentRunRefusal`'s.
 * Why: during an agent outage clients retry, and a refusal is what the gateway serves most; this
 * path costs about a fifth less CPU per refusal (docs/performance.md, breaker, "Fifth pass").
 */
export class AgentFailFast {
  constructor(private readonly options: AgentFailFastOptions) {}

  /** For Fastify's `onRoute` hook: puts the check in front of the routes marked `failFast: 'agent'`. */
  readonly onRoute = (route: RouteOptions): void => {
    if (!failsFast(route.config)) {
      return;
    }
    const own = route.onRequest;
    route.onRequest = own === undefined ? [this.onRequest] : [this.onRequest, ...(Array.isArray(own) ? own : [own])];
  };

  /** The route-level `onRequest` hook (callback style: no promise per request). */
  readonly onRequest = (req: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    const { breaker, knownCaller, refuse } = this.options;
    // Closed breaker first: the common case costs one comparison. A refusal counts, so it is
    // asked for only for a request this hook will answer.
    if (breaker.retryAfterMs() <= 0 || !knownCaller(req)) {
      done();
      return;
    }
    const problem = agentRunRefusal(breaker);
    if (!problem) {
      done();
      return;
    }
    refuse(req, reply, problem);
  };
}

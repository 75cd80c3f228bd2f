import {
  GUARDS_METADATA,
  HEADERS_METADATA,
  HTTP_CODE_METADATA,
  INTERCEPTORS_METADATA,
  PIPES_METADATA,
  REDIRECT_METADATA,
  RENDER_METADATA,
  ROUTE_ARGS_METADATA,
  SSE_METADATA,
} from '@nestjs/common/constants.js';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum.js';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, RouteOptions } from 'fastify';
import { type PerUserTier, tierOfRoute } from '../rate-limit/rate-limit-tier.decorator.js';
import {
  THROTTLER_KEY_GENERATOR,
  THROTTLER_LIMIT,
  THROTTLER_SKIP,
  THROTTLER_TRACKER,
  THROTTLER_TTL,
} from '../rate-limit/throttler.js';
import { addRouteConfig } from './route-config.js';

/** What a marked route's config carries to `EdgeAnswers`. */
export interface EdgeAnswerSpec {
  /** The controller class; its instance is Nest's (resolved once, when the route is registered). */
  controller: abstract new (...args: never[]) => object;
  /** The handler's name on the controller (its guard, interceptor and tier metadata are read from it). */
  method: string | symbol;
  /** Calls the handler as Nest would: the route's pipes applied to the request, `req` passed on. */
  invoke: (controller: object, req: FastifyRequest) => Promise<unknown>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route's known callers are answered by `EdgeAnswers`, without Nest. */
    edgeAnswer?: EdgeAnswerSpec;
  }
}

/**
 * Marks a controller route whose known callers the edge answers itself (`EdgeAnswers`): `invoke`
 * calls the handler with the same pipes as its parameter decorators, e.g.
 * `@AnsweredAtEdge<PatientsController>((c, req) => c.get(idPipe.transform(req.params), req))`.
 * Nest still registers, documents and, for every other caller, serves the route.
 */
export function AnsweredAtEdge<C extends object>(
  invoke: (controller: C, req: FastifyRequest) => Promise<unknown>,
): (target: C, method: string | symbol, descriptor: PropertyDescriptor) => void {
  return (target, method, descriptor) => {
    const spec: EdgeAnswerSpec = {
      controller: target.constructor as EdgeAnswerSpec['controller'],
      method,
      invoke: invoke as EdgeAnswerSpec['invoke'],
    };
    addRouteConfig(descriptor.value as object, { edgeAnswer: spec });
  };
}

export interface EdgeAnswersOptions {
  /** Nest's instance of a controller. */
  instanceOf: (controller: EdgeAnswerSpec['controller']) => object;
  /**
   * The guards a marked route may carry, which this path stands in for (JwtAuthGuard: a known
   * caller is authenticated). A route with any other guard, or an interceptor, is refused at boot.
   */
  standsInFor: readonly object[];
  /** Sets the caller when its token and membership are cached (`knownCaller`); false: on to Nest. */
  knownCaller: (req: FastifyRequest) => boolean;
  /**
   * Counts the request in its tier when that needs no waiting (`QuotaService.countNow`): true once
   * counted, headers set; throws the 429 problem; false when nothing was counted.
   */
  countNow: (req: FastifyRequest, reply: FastifyReply, tier: PerUserTier) => boolean;
  /** Counts it the waiting way (`QuotaService.count`: the plan read, a store round trip); rejects with the 429. */
  count: (req: FastifyRequest, reply: FastifyReply, tier: PerUserTier) => Promise<void>;
  /** Answers a failure as the problem filter does (`answerProblem`). */
  fail: (err: unknown, req: FastifyRequest, reply: FastifyReply) => void;
  /** The counter of a route's answered requests (by route template), taken once per route. */
  answered: (route: string) => { inc(): void };
}

/**
 * Answers a marked route's known callers in a route `preHandler`, without Nest: for a caller whose
 * token and membership are cached, it does what Nest's global guards (PrincipalResolverGuard,
 * RateLimitGuard), the route's JwtAuthGuard, its pipes, handler and the problem filter would,
 * through the same functions, and sends the handler's result. Anyone else (a token not verified
 * yet, a membership not cached, no token) goes on to Nest unchanged.
 *
 * Why: for an audited read, Nest's router, its execution contexts, three guards and the response
 * controller were 13–24 % of the gateway's CPU per request in a probe (docs/performance.md, scenario 1,
 * "Twelfth pass").
 * Runs after the route's `onRequest` hooks, so behind the database admission gate.
 */
export class EdgeAnswers {
  constructor(private readonly options: EdgeAnswersOptions) {}

  /** For Fastify's `onRoute` hook: puts the answer in front of the handler of every marked route. */
  readonly onRoute = (route: RouteOptions): void => {
    const spec = route.config?.edgeAnswer;
    if (!spec) {
      return;
    }
    const tier = this.checked(spec, route.url);
    const instance = this.options.instanceOf(spec.controller);
    const answer = this.preHandler(spec, instance, tier, this.options.answered(route.url));
    const own = route.preHandler;
    route.preHandler = own === undefined ? [answer] : [...(Array.isArray(own) ? own : [own]), answer];
  };

  /** The route's tier, once its metadata is known to need nothing this path does not do. */
  private checked(spec: EdgeAnswerSpec, url: string): PerUserTier {
    const { controller, method } = spec;
    const handler = (controller.prototype as Record<string | symbol, unknown>)[method] as object;
    const both = (key: string): unknown[] => [
      ...((Reflect.getMetadata(key, controller) as unknown[] | undefined) ?? []),
      ...((Reflect.getMetadata(key, handler) as unknown[] | undefined) ?? []),
    ];
    const skipped: string[] = [];
    const foreign = both(GUARDS_METADATA).filter((g) => !this.options.standsInFor.includes(g as object));
    if (foreign.length > 0) {
      skipped.push(`${foreign.length} other guard(s)`);
    }
    for (const [key, what] of [
      [INTERCEPTORS_METADATA, 'an interceptor'],
      [PIPES_METADATA, '@UsePipes'],
    ] as const) {
      if (both(key).length > 0) {
        skipped.push(what);
      }
    }
    // What shapes Nest's answer (status, headers, redirect, stream, template) or hands the reply to the handler.
    for (const [key, what] of [
      [HTTP_CODE_METADATA, '@HttpCode'],
      [HEADERS_METADATA, '@Header'],
      [REDIRECT_METADATA, '@Redirect'],
      [SSE_METADATA, '@Sse'],
      [RENDER_METADATA, '@Render'],
    ] as const) {
      if (Reflect.getMetadata(key, handler) !== undefined) {
        skipped.push(what);
      }
    }
    const args = Object.keys(
      (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, method) as object | undefined) ?? {},
    );
    if (args.some((k) => k.startsWith(`${RouteParamtypes.RESPONSE}:`) || k.startsWith(`${RouteParamtypes.NEXT}:`))) {
      skipped.push('@Res/@Next');
    }
    const throttlerPrefixes = [
      THROTTLER_SKIP,
      THROTTLER_LIMIT,
      THROTTLER_TTL,
      THROTTLER_TRACKER,
      THROTTLER_KEY_GENERATOR,
    ];
    const keys = (target: object): unknown[] => Reflect.getMetadataKeys(target) as unknown[];
    const overrides = [...keys(handler), ...keys(controller)].filter(
      (k) => typeof k === 'string' && throttlerPrefixes.some((t) => k.startsWith(t)),
    );
    if (overrides.length > 0) {
      skipped.push(`throttler overrides ${overrides.join(',')}`);
    }
    const tier = tierOfRoute(handler, controller);
    if (tier === 'ai' || tier === 'auth') {
      skipped.push(`the ${tier} tier`);
    }
    if (skipped.length > 0) {
      // What this path would skip makes a wrong answer, not a slow one.
      throw new Error(`${url}: @AnsweredAtEdge cannot stand in for ${skipped.join('; ')}`);
    }
    return tier as PerUserTier;
  }

  private preHandler(
    spec: EdgeAnswerSpec,
    instance: object,
    tier: PerUserTier,
    answered: { inc(): void },
  ): (req: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void {
    const { knownCaller, countNow, count, fail } = this.options;
    const respond = (req: FastifyRequest, reply: FastifyReply): void => {
      let result: Promise<unknown>;
      try {
        result = spec.invoke(instance, req);
      } catch (err) {
        fail(err, req, reply); // a pipe's 400
        return;
      }
      result.then(
        (body) => void reply.send(body),
        (err: unknown) => fail(err, req, reply),
      );
    };
    // Callback style, and the answer sent from here: no promise for the hook itself, and none at
    // all before the handler's while the hit is counted without waiting.
    return (req, reply, done) => {
      if (!knownCaller(req)) {
        done();
        return;
      }
      answered.inc();
      let counted: boolean;
      try {
        counted = countNow(req, reply, tier);
      } catch (err) {
        fail(err, req, reply); // the 429
        return;
      }
      if (counted) {
        respond(req, reply);
        return;
      }
      count(req, reply, tier).then(
        () => respond(req, reply),
        (err: unknown) => fail(err, req, reply),
      );
    };
  }
}

import {
  type CanActivate,
  Controller,
  Get,
  HttpCode,
  Injectable,
  Res,
  UseGuards,
  UseInterceptors,
  UsePipes,
} from '@nestjs/common';
import type { NestInterceptor } from '@nestjs/common';
import { FASTIFY_ROUTE_CONFIG_METADATA } from '@nestjs/platform-fastify/constants.js';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { ProblemException } from '../common/problem.js';
import { RateLimitTier } from '../rate-limit/rate-limit-tier.decorator.js';
import { SkipThrottle } from '../rate-limit/throttler.js';
import { AnsweredAtEdge, type EdgeAnswerSpec, EdgeAnswers, type EdgeAnswersOptions } from './edge-answer.js';

@Injectable()
class AuthGuard implements CanActivate {
  canActivate(): boolean {
    return true;
  }
}

@Injectable()
class RoleGuard implements CanActivate {
  canActivate(): boolean {
    return false;
  }
}

@Injectable()
class Wrap implements NestInterceptor {
  intercept(): never {
    throw new Error('not called');
  }
}

const calls: string[] = [];

@Controller('things')
@UseGuards(AuthGuard)
@RateLimitTier('healthcare')
class ThingsController {
  result: Promise<unknown> = Promise.resolve({ id: 'a' });

  @Get(':id')
  @AnsweredAtEdge<ThingsController>((c, req) => c.get((req.params as { id: string }).id, req))
  get(id: string, req: FastifyRequest): Promise<unknown> {
    calls.push(`get ${id} ${req.principal?.user_id ?? '-'}`);
    if (id === 'bad') {
      throw ProblemException.badRequest('The path is invalid.', []);
    }
    return this.result;
  }
}

class RoleController {
  @UseGuards(RoleGuard)
  @AnsweredAtEdge<RoleController>(() => Promise.resolve({}))
  get(): void {}
}
UseGuards(AuthGuard)(RoleController);

class InterceptedController {
  @UseInterceptors(Wrap)
  @AnsweredAtEdge<InterceptedController>(() => Promise.resolve({}))
  get(): void {}
}

class UnthrottledController {
  @SkipThrottle()
  @AnsweredAtEdge<UnthrottledController>(() => Promise.resolve({}))
  get(): void {}
}

class StatusController {
  @HttpCode(204)
  @AnsweredAtEdge<StatusController>(() => Promise.resolve({}))
  get(): void {}
}

class ReplyController {
  @AnsweredAtEdge<ReplyController>(() => Promise.resolve({}))
  get(@Res() _reply: unknown): void {}
}

@UsePipes(Wrap)
class PipedController {
  @AnsweredAtEdge<PipedController>(() => Promise.resolve({}))
  get(): void {}
}

class AiController {
  @RateLimitTier('ai')
  @AnsweredAtEdge<AiController>(() => Promise.resolve({}))
  get(): void {}
}

const specOf = (controller: { prototype: object }): EdgeAnswerSpec =>
  (
    Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, (controller.prototype as { get: object }).get) as {
      edgeAnswer: EdgeAnswerSpec;
    }
  ).edgeAnswer;

interface Harness {
  controller: ThingsController;
  counted: string[];
  failed: unknown[];
  answered: number;
  /** What countNow does next: count, decline, or throw this. */
  count: 'yes' | 'no' | ProblemException;
  /** What the waiting count does: resolve, or reject with this. */
  waited: 'ok' | ProblemException;
  options: EdgeAnswersOptions;
}

function harness(): Harness {
  const h: Harness = {
    controller: new ThingsController(),
    counted: [],
    failed: [],
    answered: 0,
    count: 'yes',
    waited: 'ok',
    options: undefined as unknown as EdgeAnswersOptions,
  };
  h.options = {
    instanceOf: () => h.controller,
    standsInFor: [AuthGuard],
    knownCaller: (req) => {
      if (req.headers.authorization !== 'Bearer known') {
        return false;
      }
      req.principal = { user_id: 'u1', email: null, clinic_id: 'c1', role: 'receptionist' };
      return true;
    },
    countNow: (req, reply, tier) => {
      if (h.count instanceof ProblemException) {
        throw h.count;
      }
      h.counted.push(`${tier} ${req.principal?.user_id ?? '-'} ${h.count}`);
      void reply.header('RateLimit', `"${tier}";r=1;t=60`);
      return h.count === 'yes';
    },
    count: async (req, reply, tier) => {
      await Promise.resolve();
      if (h.waited instanceof ProblemException) {
        throw h.waited;
      }
      h.counted.push(`${tier} ${req.principal?.user_id ?? '-'} waited`);
      void reply.header('RateLimit', `"${tier}";r=2;t=60`);
    },
    fail: (err: unknown, _req: FastifyRequest, reply: FastifyReply) => {
      h.failed.push(err);
      const status = err instanceof ProblemException ? err.getStatus() : 500;
      void reply.status(status).send({ failed: status });
    },
    answered: () => ({ inc: () => void h.answered++ }),
  };
  return h;
}

/** Fastify with the marked route (a hook of its own before it) whose handler stands for Nest's. */
async function appWith(h: Harness) {
  const app = Fastify();
  const order: string[] = [];
  app.addHook('onRoute', new EdgeAnswers(h.options).onRoute);
  const spec = specOf(ThingsController);
  app.get(
    '/things/:id',
    {
      config: { edgeAnswer: spec },
      preHandler: (_req, _reply, done) => {
        order.push('own hook');
        done();
      },
    },
    () => {
      order.push('nest');
      return { from: 'nest' };
    },
  );
  app.get('/other', () => ({ from: 'other' }));
  await app.ready();
  const get = (url: string, authorization = 'Bearer known') =>
    app.inject({ method: 'GET', url, headers: { authorization } });
  return { app, order, get };
}

beforeEach(() => {
  calls.length = 0;
});

describe('AnsweredAtEdge', () => {
  it("puts the controller, the handler's name and the call in the route config", () => {
    const spec = specOf(ThingsController);
    expect(spec.controller).toBe(ThingsController);
    expect(spec.method).toBe('get');
    expect(typeof spec.invoke).toBe('function');
  });
});

describe('EdgeAnswers', () => {
  it("answers a known caller counted without waiting with the handler's result, after the route's own hooks", async () => {
    const h = harness();
    const { app, order, get } = await appWith(h);
    const r = await get('/things/42');
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ id: 'a' });
    expect(r.headers.ratelimit).toBe('"healthcare";r=1;t=60');
    expect(order).toEqual(['own hook']);
    expect(calls).toEqual(['get 42 u1']);
    expect(h.counted).toEqual(['healthcare u1 yes']);
    expect(h.answered).toBe(1);
    await app.close();
  });

  it('sends an unknown caller on to Nest, uncounted', async () => {
    const h = harness();
    const { app, order, get } = await appWith(h);
    const r = await get('/things/42', 'Bearer stranger');
    expect(r.json()).toEqual({ from: 'nest' });
    expect(order).toEqual(['own hook', 'nest']);
    expect(calls).toEqual([]);
    expect(h.counted).toEqual([]);
    expect(h.answered).toBe(0);
    await app.close();
  });

  it('counts a known caller the waiting way when the hit cannot be counted now, then answers', async () => {
    const h = harness();
    h.count = 'no';
    const { app, order, get } = await appWith(h);
    const r = await get('/things/42');
    expect(r.json()).toEqual({ id: 'a' });
    expect(r.headers.ratelimit).toBe('"healthcare";r=2;t=60');
    expect(order).toEqual(['own hook']);
    expect(h.counted).toEqual(['healthcare u1 no', 'healthcare u1 waited']);
    expect(calls).toEqual(['get 42 u1']);
    expect(h.answered).toBe(1);
    await app.close();
  });

  it('answers a refusal of the waiting count (a 429, a closed store) as a failure, without calling the handler', async () => {
    const h = harness();
    h.count = 'no';
    h.waited = new ProblemException(503, 'upstream_unavailable', 'Request limits cannot be checked right now.');
    const { app, get } = await appWith(h);
    expect((await get('/things/42')).statusCode).toBe(503);
    expect(h.failed).toEqual([h.waited]);
    expect(calls).toEqual([]);
    await app.close();
  });

  it('answers the 429 as a failure, without calling the handler', async () => {
    const h = harness();
    h.count = new ProblemException(429, 'rate_limited', 'Too many requests; retry later.');
    const { app, order, get } = await appWith(h);
    const r = await get('/things/42');
    expect(r.statusCode).toBe(429);
    expect(h.failed).toEqual([h.count]);
    expect(calls).toEqual([]);
    expect(order).toEqual(['own hook']);
    expect(h.answered).toBe(1);
    await app.close();
  });

  it("answers a pipe's refusal (thrown before a promise) and a handler's rejection as failures", async () => {
    const h = harness();
    const { app, get } = await appWith(h);
    expect((await get('/things/bad')).statusCode).toBe(400);
    const missing = new ProblemException(404, 'not_found', 'Patient not found.');
    h.controller.result = Promise.reject(missing);
    expect((await get('/things/42')).statusCode).toBe(404);
    expect(h.failed).toHaveLength(2);
    expect(h.failed[0]).toBeInstanceOf(ProblemException);
    expect(h.failed[1]).toBe(missing);
    expect(h.answered).toBe(2);
    await app.close();
  });

  it('leaves unmarked routes alone', async () => {
    const h = harness();
    const { app, get } = await appWith(h);
    expect((await get('/other')).json()).toEqual({ from: 'other' });
    expect(h.counted).toEqual([]);
    await app.close();
  });

  it.each([
    ['another guard', RoleController, /cannot stand in for 1 other guard/],
    ['an interceptor', InterceptedController, /an interceptor/],
    ['class pipes', PipedController, /@UsePipes/],
    ['a status of its own', StatusController, /@HttpCode/],
    ['the reply handed to the handler', ReplyController, /@Res\/@Next/],
    ['a throttler override', UnthrottledController, /throttler overrides THROTTLER:SKIP/],
    ['the ai tier', AiController, /the ai tier/],
  ])('refuses at registration a route with %s, which it would skip', async (_what, controller, message) => {
    const app = Fastify();
    app.addHook('onRoute', new EdgeAnswers(harness().options).onRoute);
    expect(() => app.get('/x', { config: { edgeAnswer: specOf(controller) } }, () => ({}))).toThrow(message);
    await app.close();
  });
});

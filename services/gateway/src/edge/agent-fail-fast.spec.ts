import { Controller, Post } from '@nestjs/common';
import { FASTIFY_ROUTE_CONFIG_METADATA } from '@nestjs/platform-fastify/constants.js';
import { RouteConfig } from '@nestjs/platform-fastify';
import { UpstreamUnavailableError } from '@neonpro/resilience';
import Fastify, { type FastifyRequest } from 'fastify';
import { AgentFailFast, type AgentBreaker, FailsFastWhileAgentDown, failsFast } from './agent-fail-fast.js';

/** A breaker the test opens and closes; `refusal()` counts like the policy's. */
class TestBreaker implements AgentBreaker {
  waitMs = 0;
  /** What `refusal()` answers while open (undefined: it turned half-open meanwhile). */
  refuses = true;
  counted = 0;

  retryAfterMs(): number {
    return this.waitMs;
  }

  refusal(): UpstreamUnavailableError | undefined {
    if (this.waitMs <= 0 || !this.refuses) {
      return undefined;
    }
    this.counted++;
    return new UpstreamUnavailableError('agent', 'breaker_open', this.waitMs);
  }
}

/** Fastify with a marked run route (with a hook of its own) and an unmarked one. */
async function appWith(breaker: TestBreaker) {
  const app = Fastify();
  const order: string[] = [];
  const failFast = new AgentFailFast({
    breaker,
    knownCaller: (req: FastifyRequest) => req.headers.authorization === 'Bearer known',
    refuse: (_req, reply, problem) =>
      void reply.status(problem.getStatus()).send({
        code: problem.code,
        detail: problem.detail,
        retry_after: problem.problemOptions.retryAfter,
      }),
  });
  app.addHook('onRoute', failFast.onRoute);
  const own = (_req: FastifyRequest, _reply: unknown, done: () => void) => {
    order.push('own hook');
    done();
  };
  app.post('/run', { config: { failFast: 'agent' }, onRequest: own }, (req) => {
    order.push('handler');
    return { body: req.body };
  });
  app.post('/other', (req) => ({ body: req.body }));
  await app.ready();
  const post = (url: string, authorization: string, payload = '{"message":"oi"}') =>
    app.inject({ method: 'POST', url, headers: { authorization, 'content-type': 'application/json' }, payload });
  return { app, order, post };
}

describe('AgentFailFast', () => {
  it('lets every call through while the breaker is closed', async () => {
    const breaker = new TestBreaker();
    const { post, order } = await appWith(breaker);
    const r = await post('/run', 'Bearer known');
    expect(r.statusCode).toBe(200);
    expect(order).toEqual(['own hook', 'handler']);
    expect(breaker.counted).toBe(0);
  });

  it('refuses a known caller while open, before the body is parsed and before the route’s own hooks', async () => {
    const breaker = new TestBreaker();
    breaker.waitMs = 4000;
    const { post, order } = await appWith(breaker);
    const r = await post('/run', 'Bearer known', '{"message": ');
    expect(r.statusCode).toBe(503);
    expect(r.json()).toEqual({
      code: 'upstream_unavailable',
      detail: 'The assistant is failing; calls are paused for a moment.',
      retry_after: 4,
    });
    expect(order).toEqual([]);
    expect(breaker.counted).toBe(1);
  });

  it('leaves callers it does not know to the application, without counting a refusal for them', async () => {
    const breaker = new TestBreaker();
    breaker.waitMs = 4000;
    const { post, order } = await appWith(breaker);
    expect((await post('/run', 'Bearer someone')).statusCode).toBe(200);
    expect((await post('/run', 'Bearer someone', '{"message": ')).statusCode).toBe(400);
    expect(order).toEqual(['own hook', 'handler', 'own hook']);
    expect(breaker.counted).toBe(0);
  });

  it('lets the call through when the breaker turned half-open between the two questions', async () => {
    const breaker = new TestBreaker();
    breaker.waitMs = 1;
    breaker.refuses = false;
    const { post } = await appWith(breaker);
    expect((await post('/run', 'Bearer known')).statusCode).toBe(200);
    expect(breaker.counted).toBe(0);
  });

  it('leaves routes that start no run alone', async () => {
    const breaker = new TestBreaker();
    breaker.waitMs = 4000;
    const { post } = await appWith(breaker);
    expect((await post('/other', 'Bearer known')).statusCode).toBe(200);
    expect(breaker.counted).toBe(0);
  });
});

describe('FailsFastWhileAgentDown', () => {
  it('marks the route and keeps the route config it already has', () => {
    @Controller('t')
    class RunController {
      @Post('a')
      @FailsFastWhileAgentDown()
      @RouteConfig({ slow: true })
      a(): void {}

      @Post('b')
      b(): void {}
    }
    const config = (name: 'a' | 'b') =>
      Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, RunController.prototype[name]) as
        Record<string, unknown> | undefined;
    expect(config('a')).toEqual({ slow: true, failFast: 'agent' });
    expect(failsFast(config('a'))).toBe(true);
    expect(failsFast(config('b'))).toBe(false);
  });
});

import { jest } from '@jest/globals';
import { EventEmitter } from 'node:events';
import { Controller, Get } from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/constants.js';
import { FASTIFY_ROUTE_CONFIG_METADATA } from '@nestjs/platform-fastify/constants.js';
import { RouteConfig } from '@nestjs/platform-fastify';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { DatabaseAdmission, DatabaseAdmitted } from './database-admission.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** A Fastify app with gated routes whose handlers finish when the test says so. */
async function gatedApp(limit: number, queue: number) {
  const app = Fastify();
  const gate = new DatabaseAdmission({
    limit,
    queue,
    refuse: (_req, reply) => void reply.status(503).send({ code: 'upstream_unavailable' }),
  });
  app.addHook('onRoute', gate.onRoute);
  const started: string[] = [];
  const finish = new Map<string, ReturnType<typeof deferred>>();
  const release = (n: string) => finish.get(n)?.resolve();
  app.get('/db/:n', { config: { admission: 'database' } }, async (req) => {
    const { n } = req.params as { n: string };
    started.push(n);
    const d = deferred();
    finish.set(n, d);
    await d.promise;
    return { n };
  });
  app.get('/free', (_req, reply) => void reply.send({ free: true }));
  await app.ready();
  return { app, gate, started, release };
}

/** Lets the event loop run what the last step made ready (no timers). */
const settle = () => new Promise<void>((r) => setImmediate(r));

describe('DatabaseAdmission', () => {
  it('admits up to its limit, queues the rest in arrival order and passes each freed slot on', async () => {
    const { app, gate, started, release } = await gatedApp(2, 10);
    const answers = ['a', 'b', 'c', 'd'].map((n) => app.inject({ url: `/db/${n}` }));
    await settle();
    expect(started).toEqual(['a', 'b']);
    expect([gate.admitted, gate.waiting]).toEqual([2, 2]);

    release('b');
    expect((await answers[1])?.json()).toEqual({ n: 'b' });
    await settle();
    expect(started).toEqual(['a', 'b', 'c']);
    expect([gate.admitted, gate.waiting]).toEqual([2, 1]);

    release('a');
    release('c');
    await Promise.all([answers[0], answers[2]]);
    await settle();
    expect(started).toEqual(['a', 'b', 'c', 'd']);
    release('d');
    await answers[3];
    await settle();
    expect([gate.admitted, gate.waiting]).toEqual([0, 0]);
    await app.close();
  });

  it('refuses past its queue, and never gates routes that are not database work', async () => {
    const { app, gate, started, release } = await gatedApp(1, 1);
    const first = app.inject({ url: '/db/a' });
    const second = app.inject({ url: '/db/b' });
    await settle();
    const refused = await app.inject({ url: '/db/c' });
    expect(refused.statusCode).toBe(503);
    expect(refused.json()).toEqual({ code: 'upstream_unavailable' });
    expect((await app.inject({ url: '/free' })).json()).toEqual({ free: true });
    expect(started).toEqual(['a']);
    expect([gate.admitted, gate.waiting]).toEqual([1, 1]);
    release('a');
    await first;
    await settle();
    release('b');
    expect((await second).statusCode).toBe(200);
    await app.close();
  });

  it("gates Fastify's HEAD twin of a GET route once, not twice", async () => {
    const { app, gate, started, release } = await gatedApp(1, 0);
    const head = app.inject({ method: 'HEAD', url: '/db/h' });
    await settle();
    expect(started).toEqual(['h']);
    expect([gate.admitted, gate.waiting]).toEqual([1, 0]);
    release('h');
    expect((await head).statusCode).toBe(200);
    await app.close();
  });

  describe('when a client goes away', () => {
    /** The parts of a Fastify request the gate touches: the raw response's `close`. */
    const arrive = (gate: DatabaseAdmission) => {
      const raw = new EventEmitter();
      const done = jest.fn();
      gate.onRequest({} as FastifyRequest, { raw } as unknown as FastifyReply, done);
      return { close: () => raw.emit('close'), done };
    };
    const gate = () => new DatabaseAdmission({ limit: 1, queue: 5, refuse: () => undefined });

    it('a waiter leaves the queue and is never admitted', () => {
      const g = gate();
      const a = arrive(g);
      const b = arrive(g);
      const c = arrive(g);
      expect([g.admitted, g.waiting]).toEqual([1, 2]);
      b.close();
      expect([g.admitted, g.waiting]).toEqual([1, 1]);
      a.close();
      expect(b.done).not.toHaveBeenCalled();
      expect(c.done).toHaveBeenCalledTimes(1);
      c.close();
      expect([g.admitted, g.waiting]).toEqual([0, 0]);
    });

    it('an admitted request that closes before it is answered frees its slot once', () => {
      const g = gate();
      const a = arrive(g);
      const b = arrive(g);
      a.close();
      expect(b.done).toHaveBeenCalledTimes(1);
      expect([g.admitted, g.waiting]).toEqual([1, 0]);
      b.close();
      expect([g.admitted, g.waiting]).toEqual([0, 0]);
      arrive(g);
      expect(g.admitted).toBe(1);
    });
  });

  it('refuses a limit below one', () => {
    expect(() => new DatabaseAdmission({ limit: 0, queue: 1, refuse: () => undefined })).toThrow(RangeError);
  });
});

describe('DatabaseAdmitted', () => {
  @DatabaseAdmitted()
  @Controller('x')
  class Marked {
    @Get()
    list(): void {}

    @RouteConfig({ other: 1 })
    @Get(':id')
    get(): void {}

    helper(): void {}
  }

  it('marks every route of the controller as database work and keeps their own route config', () => {
    const config = (m: keyof Marked) =>
      Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, Marked.prototype[m]) as unknown;
    expect(config('list')).toEqual({ admission: 'database' });
    expect(config('get')).toEqual({ other: 1, admission: 'database' });
    expect(Reflect.getMetadata(PATH_METADATA, Marked.prototype.helper)).toBeUndefined();
    expect(config('helper')).toBeUndefined();
  });
});

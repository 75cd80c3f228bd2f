import { PATH_METADATA } from '@nestjs/common/constants.js';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, RouteOptions } from 'fastify';
import { addRouteConfig } from './route-config.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `database`: the route's work is a database transaction; it waits at the DatabaseAdmission gate. */
    admission?: 'database';
  }
}

/**
 * Marks every route of a controller as database work (Fastify route config `admission: 'database'`),
 * so `DatabaseAdmission` gates it. Keeps any route config a method already has.
 */
export function DatabaseAdmitted(): ClassDecorator {
  return (target) => {
    const proto = (target as unknown as { prototype: object }).prototype;
    for (const key of Object.getOwnPropertyNames(proto)) {
      const handler = Object.getOwnPropertyDescriptor(proto, key)?.value as unknown;
      if (key === 'constructor' || typeof handler !== 'function') {
        continue;
      }
      if (Reflect.getMetadata(PATH_METADATA, handler) === undefined) {
        continue; // a helper, not a route
      }
      addRouteConfig(handler, { admission: 'database' });
    }
  };
}

interface Waiter {
  done: HookHandlerDoneFunction;
  admitted: boolean;
  prev: Waiter | undefined;
  next: Waiter | undefined;
}

export interface DatabaseAdmissionOptions {
  /** Requests inside the application at once (past the gate, until their response closes). */
  limit: number;
  /** Requests waiting at the gate; one more is refused. 0: refuse whenever the gate is full. */
  queue: number;
  /** Answers a refused request (the gateway's 503 problem); the request goes no further. */
  refuse: (req: FastifyRequest, reply: FastifyReply) => void;
}

/**
 * An admission gate in front of the routes whose work is a database transaction.
 *
 * Why: the pg pool serves DB_POOL_MAX transactions at a time. Without a gate, every request that
 * arrived ran Nest's guards, handler and policy up to the pool's queue, and waited there with all
 * of it alive. Under 64 connections that was about 1 MB of young objects at each scavenge, copied
 * and often promoted (docs/performance.md, scenario 1, "Eighth pass"). Here a request waits in a
 * FIFO before the application has allocated anything for it, and what runs after admission dies
 * young. The gate also bounds the work in progress: past `queue` waiters, a fast 503.
 *
 * A slot is held from admission until the response closes (sent or aborted); a waiter whose client
 * goes away leaves the queue.
 */
export class DatabaseAdmission {
  private inside = 0;
  private waiters = 0;
  private head: Waiter | undefined;
  private tail: Waiter | undefined;
  private readonly limit: number;
  private readonly queue: number;
  private readonly refuse: DatabaseAdmissionOptions['refuse'];

  constructor(options: DatabaseAdmissionOptions) {
    if (!Number.isInteger(options.limit) || options.limit < 1) {
      throw new RangeError('limit must be a positive integer');
    }
    this.limit = options.limit;
    this.queue = options.queue;
    this.refuse = options.refuse;
  }

  /** Requests past the gate whose responses have not closed. */
  get admitted(): number {
    return this.inside;
  }

  /** Requests waiting at the gate. */
  get waiting(): number {
    return this.waiters;
  }

  /** For Fastify's `onRoute` hook: puts the gate in front of the routes marked `admission: 'database'`. */
  readonly onRoute = (route: RouteOptions): void => {
    if (route.config?.admission !== 'database') {
      return;
    }
    const own = route.onRequest;
    route.onRequest = own === undefined ? [this.onRequest] : [...(Array.isArray(own) ? own : [own]), this.onRequest];
  };

  /** The route-level `onRequest` hook (callback style: no promise per request). */
  readonly onRequest = (req: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    if (this.inside < this.limit) {
      this.inside++;
      // One shared listener: `close` comes once per response, sent or aborted.
      reply.raw.on('close', this.release);
      done();
      return;
    }
    if (this.waiters >= this.queue) {
      this.refuse(req, reply);
      return;
    }
    const waiter: Waiter = { done, admitted: false, prev: this.tail, next: undefined };
    if (this.tail) {
      this.tail.next = waiter;
    } else {
      this.head = waiter;
    }
    this.tail = waiter;
    this.waiters++;
    reply.raw.on('close', () => {
      if (waiter.admitted) {
        this.release();
      } else {
        this.unlink(waiter);
      }
    });
  };

  private readonly release = (): void => {
    const next = this.head;
    if (!next) {
      this.inside--;
      return;
    }
    // The slot passes to the oldest waiter: `inside` stays as it is.
    this.unlink(next);
    next.admitted = true;
    next.done();
  };

  private unlink(w: Waiter): void {
    if (w.prev) {
      w.prev.next = w.next;
    } else {
      this.head = w.next;
    }
    if (w.next) {
      w.next.prev = w.prev;
    } else {
      this.tail = w.prev;
    }
    w.prev = w.next = undefined;
    this.waiters--;
  }
}

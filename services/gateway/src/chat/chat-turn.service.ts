import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  type ChatConfirm,
  type ChatProposal,
  ErrorCode,
  type RelayedRunEvent,
  toChatProposal,
} from '@neonpro/contracts';
import { HealthRegistry } from '@neonpro/observability';
import { PolicyRegistry } from '@neonpro/resilience';
import { ProblemException } from '../common/problem.js';
import { GATEWAY_CONFIG, type GatewayRuntimeConfig } from '../gateway.config.js';
import { AGENT_POLICY } from '../resilience/gateway-policies.js';
import { AgentCallError, AgentClient } from './agent-client.service.js';
import { agentErrorToProblem, callErrorToProblem } from './agent-errors.js';
import { RunningChats } from './running-chats.service.js';

export interface TurnInput {
  session_id?: string;
  message: string;
  client_message_id?: string;
  /** Confirms the session's pending proposal explicitly (the card's button). */
  confirm?: ChatConfirm;
}

export interface TurnContext {
  userId: string;
  /** The gateway's own request id (audit rows and logs in the agent). */
  requestId: string;
  /** The client's X-Request-Id, sanitised: logged and kept as an audit detail only. */
  clientRequestId?: string;
  traceparent?: string;
}

export interface OpenTurn {
  sessionId: string;
  messageId: string;
  /** The first event (already checked: never an error). */
  first: RelayedRunEvent;
  /** The events after `first`, until done or error. */
  events: AsyncGenerator<RelayedRunEvent, void, undefined>;
}

/**
 * One chat turn, whatever the client transport (REST JSON, SSE, Socket.IO): admission, queueing
 * the run, following its event log, reattaching, cancelling. Transports only render events.
 */
@Injectable()
export class ChatTurnService {
  constructor(
    private readonly agent: AgentClient,
    private readonly health: HealthRegistry,
    private readonly policies: PolicyRegistry,
    private readonly running: RunningChats,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayRuntimeConfig,
  ) {}

  /**
   * Queues a turn and waits for its first event, so early failures (no agent, overload, a
   * refused run) become proper problems before a status is committed.
   */
  async open(input: TurnInput, ctx: TurnContext, messageId: string = randomUUID()): Promise<OpenTurn> {
    if (this.health.isShuttingDown) {
      throw new ProblemException(503, ErrorCode.ShuttingDown, 'This gateway is restarting; retry.', { retryAfter: 1 });
    }
    const sessionId = input.session_id ?? randomUUID();
    const tracked = this.running.begin(ctx.userId, input.client_message_id ? [input.client_message_id] : [], messageId);
    try {
      // No retry: the queue is durable and redelivers by itself; a second publish would be a second run.
      const opened = await this.policies.get(AGENT_POLICY).execute(
        async () => {
          await this.agent.admit();
          // Subscribed to the run's events before it is queued, so none is published unheard.
          const live = await this.agent.start(
            {
              session_id: sessionId,
              message_id: messageId,
              message: input.message,
              client_message_id: input.client_message_id,
              ...(input.confirm ? { confirm: input.confirm } : {}),
            },
            {
              userId: ctx.userId,
              requestId: ctx.requestId,
              clientRequestId: ctx.clientRequestId,
              traceparent: ctx.traceparent,
            },
          );
          const events = this.agent.events(messageId, 0, live);
          try {
            const r = await events.next();
            if (r.done) {
              throw new AgentCallError('protocol', 'The assistant ended the stream without an answer.');
            }
            return { events, first: r.value };
          } catch (err) {
            await events.return(undefined);
            throw err;
          }
        },
        { retry: false },
      );
      if (opened.first.type === 'error') {
        await opened.events.return(undefined);
        throw agentErrorToProblem(opened.first, this.config.AGENT_RETRY_AFTER_S);
      }
      return {
        sessionId,
        messageId,
        first: opened.first,
        events: onceEnded(opened.events, tracked.end),
      };
    } catch (err) {
      tracked.end();
      if (err instanceof AgentCallError && err.kind === 'timeout') {
        this.cancelQuietly(messageId);
      }
      throw callErrorToProblem(err, this.config.AGENT_RETRY_AFTER_S);
    }
  }

  /** The caller's own run's events after `after`: anyone else, or an unknown id, gets 404. */
  async attach(
    userId: string,
    messageId: string,
    after: number,
  ): Promise<AsyncGenerator<RelayedRunEvent, void, undefined>> {
    const owner = await this.agent.owner(messageId).catch((err: unknown) => {
      throw callErrorToProblem(err, this.config.AGENT_RETRY_AFTER_S);
    });
    if (owner?.user_id !== userId) {
      throw notFound();
    }
    return this.agent.events(messageId, after);
  }

  /** Session a run belongs to, for its owner only. */
  async sessionOf(userId: string, messageId: string): Promise<string> {
    const owner = await this.agent.owner(messageId);
    if (owner?.user_id !== userId) {
      throw notFound();
    }
    return owner.session_id;
  }

  /**
   * Cancels the caller's run by its message id (on any replica: the owner is in the log) or by
   * its client_message_id (on the replica relaying it). Goes over the bus to every agent.
   */
  async cancel(userId: string, id: string): Promise<string> {
    let messageId = this.running.lookup(userId, id);
    if (!messageId && /^[0-9a-f-]{36}$/i.test(id)) {
      const owner = await this.agent.owner(id);
      if (owner?.user_id === userId) {
        messageId = id;
      }
    }
    if (!messageId || (await this.agent.finished(messageId))) {
      throw notFound('No running message with this id.');
    }
    try {
      this.agent.cancel(messageId);
    } catch (err) {
      throw callErrorToProblem(err, this.config.AGENT_RETRY_AFTER_S);
    }
    return messageId;
  }

  /** Follows events to the end, for a JSON answer (with the proposal to confirm, if any). */
  async collect(turn: OpenTurn): Promise<{ content: string; proposal?: ChatProposal }> {
    let event: RelayedRunEvent = turn.first;
    let proposal: ChatProposal | undefined;
    for (;;) {
      if (event.type === 'proposal') {
        proposal = toChatProposal(event);
      }
      if (event.type === 'done') {
        return { content: event.content, proposal };
      }
      if (event.type === 'error') {
        throw agentErrorToProblem(event, this.config.AGENT_RETRY_AFTER_S);
      }
      let r: IteratorResult<RelayedRunEvent, void>;
      try {
        r = await turn.events.next();
      } catch (err) {
        throw this.streamFailure(err, turn.messageId);
      }
      if (r.done) {
        throw new ProblemException(502, ErrorCode.AgentFailed, 'The assistant ended the stream early.');
      }
      event = r.value;
    }
  }

  /** Maps a failure while following a started stream; a timeout also cancels the run. */
  streamFailure(err: unknown, messageId: string): ProblemException {
    if (err instanceof AgentCallError && err.kind === 'timeout') {
      this.cancelQuietly(messageId);
    }
    return callErrorToProblem(err, this.config.AGENT_RETRY_AFTER_S);
  }

  private cancelQuietly(messageId: string): void {
    try {
      this.agent.cancel(messageId);
    } catch {
      // The bus is down: the agent's own deadline ends the run.
    }
  }
}

function notFound(detail = 'No chat message with this id.'): ProblemException {
  return new ProblemException(404, ErrorCode.NotFound, detail);
}

/**
 * `events`, with `end` called once when they finish, fail or are returned. Not an async
 * generator: `return()` on a generator that never started skips its `finally`, and a transport
 * whose first event is already the last one (a `done` with no tokens before it, or an SSE client
 * gone after the first event) returns without ever calling `next()`. The relay's subscription,
 * timers and live probe would then outlive the turn.
 */
function onceEnded<T>(events: AsyncGenerator<T, void, undefined>, end: () => void): AsyncGenerator<T, void, undefined> {
  let open = true;
  const close = (): void => {
    if (open) {
      open = false;
      end();
    }
  };
  const it: AsyncGenerator<T, void, undefined> = {
    async next() {
      try {
        const r = await events.next();
        if (r.done) {
          close();
        }
        return r;
      } catch (err) {
        close();
        throw err;
      }
    },
    async return(value) {
      close();
      return events.return(value);
    },
    async throw(err: unknown) {
      close();
      return events.throw(err);
    },
    [Symbol.asyncIterator]() {
      return it;
    },
    async [Symbol.asyncDispose]() {
      await it.return(undefined);
    },
  };
  return it;
}

import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { type AgentChatRequest, type AgentEvent, ErrorCode } from '@neonpro/contracts';
import { Database } from '@neonpro/database';
import type { Principal } from '@neonpro/auth';
import { HealthRegistry } from '@neonpro/observability';
import { PolicyRegistry } from '@neonpro/resilience';
import { PinoLogger } from 'nestjs-pino';
import type { Namespace } from 'socket.io';
import type { Authenticated } from '../auth/auth.types.js';
import { callerClaimsOf } from '../auth/caller-claims.js';
import { type AgentCallContext, AgentClient } from '../chat/agent-client.service.js';
import { ProblemException } from '../common/problem.js';
import { GATEWAY_CONFIG, type GatewayRuntimeConfig } from '../gateway.config.js';
import { toProblem } from '../healthcare/user-db.service.js';
import { StreamTracker } from '../lifecycle/stream-tracker.service.js';
import { GatewayMetrics } from '../metrics/gateway-metrics.service.js';
import { QuotaService } from '../plans/quota.service.js';
import { POSTGRES_POLICY } from '../resilience/gateway-policies.js';
import { agentErrorToProblem, callErrorToProblem, openAgentCall } from '../chat/agent-errors.js';
import { RealtimeRegistry } from './realtime-registry.service.js';
import { type ChatSend, sessionRoom, SocketEvent } from './realtime.schema.js';

/** Cross-replica signal: stop relaying this message (sent by the replica that took the cancel). */
export const ABORT_RUN = 'neonpro:abort-run';

export interface StartedRun {
  sessionId: string;
  messageId: string;
  /** Starts relaying the agent's events to the session's room (call after the ack). */
  relay: () => void;
}

/**
 * Chat turns started over Socket.IO. The replica that accepts a message relays the agent's
 * events to the session's room; the adapter (Redis Streams with several replicas) delivers them
 * to every socket of the room, wherever it is connected. A run never depends on the sender's
 * socket: it continues after a disconnect and only `chat:cancel` stops it.
 */
@Injectable()
export class ChatRunService {
  private nsp?: Namespace;
  private readonly aborts = new Map<string, () => void>();

  constructor(
    private readonly agent: AgentClient,
    private readonly streams: StreamTracker,
    private readonly health: HealthRegistry,
    private readonly policies: PolicyRegistry,
    private readonly quotas: QuotaService,
    private readonly registry: RealtimeRegistry,
    private readonly metrics: GatewayMetrics,
    private readonly logger: PinoLogger,
    @Inject(Database) private readonly db: Database,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayRuntimeConfig,
  ) {}

  /** The /chat namespace (set once the Socket.IO server is up). */
  get namespace(): Namespace | undefined {
    return this.nsp;
  }

  bind(nsp: Namespace): void {
    this.nsp = nsp;
    // serverSideEmit from other replicas (never from this one: it aborts locally).
    (nsp as unknown as { on(ev: string, fn: (id: string) => void): void }).on(ABORT_RUN, (id) => this.abortLocal(id));
  }

  /**
   * The `ai` tier from the clinic's plan, with the very keys the HTTP guard uses, so REST and
   * sockets share one limit; a new chat also needs budget left (`quota_exceeded`).
   */
  async countAiRequest(principal: Principal): Promise<void> {
    await this.quotas.countAi(principal, { chargeBudget: true });
  }

  /**
   * A session may be used or joined only by its owner: a row visible under RLS, or an id this
   * user started that the agent has not written yet. Anything else is `not_found`.
   */
  async assertOwnsSession(auth: Authenticated, sessionId: string, requestId: string): Promise<void> {
    const owner = await this.registry.sessionOwner(sessionId);
    if (owner === auth.principal.user_id) return;
    if (owner !== undefined) throw sessionNotFound();
    try {
      await this.policies
        .get(POSTGRES_POLICY)
        .execute(() => this.db.withUser(auth.claims, (repos) => repos.chat.getSession(sessionId), { requestId }), {
          retry: true,
        });
    } catch (err) {
      const problem = toProblem(err);
      if (problem instanceof ProblemException && problem.code === ErrorCode.NotFound) throw sessionNotFound();
      throw problem;
    }
  }

  async send(auth: Authenticated, input: ChatSend, requestId: string): Promise<StartedRun> {
    if (this.health.isShuttingDown) {
      throw new ProblemException(503, ErrorCode.ShuttingDown, 'This gateway is restarting; retry.', { retryAfter: 1 });
    }
    await this.countAiRequest(auth.principal);
    let sessionId = input.session_id;
    if (sessionId) await this.assertOwnsSession(auth, sessionId, requestId);
    else {
      sessionId = randomUUID();
      await this.registry.rememberSession(sessionId, auth.principal.user_id);
    }
    const ctx: AgentCallContext = { requestId, caller: callerClaimsOf(auth) };
    const release = this.streams.begin();
    let opened: Awaited<ReturnType<ChatRunService['open']>>;
    try {
      opened = await this.open(
        { session_id: sessionId, message: input.message, client_message_id: input.client_message_id },
        ctx,
      );
    } catch (err) {
      release();
      throw err;
    }
    const { events, first, messageId } = opened;
    if (first.type === 'error') {
      release();
      await events.return(undefined);
      throw agentErrorToProblem(first, this.config.AGENT_RETRY_AFTER_S);
    }
    await this.registry.startRun(messageId, auth.principal.user_id);
    const session = sessionId;
    return {
      sessionId: session,
      messageId,
      relay: () => void this.relay(session, messageId, events, first, release),
    };
  }

  /** Stops a running message of this user, whichever replica relays it. */
  async cancel(userId: string, messageId: string): Promise<void> {
    const owner = await this.registry.runOwner(messageId);
    if (owner !== userId) throw new ProblemException(404, ErrorCode.NotFound, 'No running message with this id.');
    try {
      this.agent.cancel(messageId);
    } catch (err) {
      throw callErrorToProblem(err, this.config.AGENT_RETRY_AFTER_S);
    }
    this.abortLocal(messageId);
    this.nsp?.serverSideEmit(ABORT_RUN, messageId);
  }

  /** Same policy as REST (bulkhead, breaker, retry): retried only before anything was relayed. */
  private open(
    turn: Omit<AgentChatRequest, 'message_id'>,
    ctx: AgentCallContext,
  ): Promise<{ events: AsyncGenerator<AgentEvent>; first: AgentEvent; messageId: string }> {
    // chat:send always carries client_message_id, so the agent can dedupe a resend.
    return openAgentCall(this.agent, this.policies, turn, ctx, {
      retry: true,
      retryAfterS: this.config.AGENT_RETRY_AFTER_S,
    });
  }

  private async relay(
    sessionId: string,
    messageId: string,
    events: AsyncGenerator<AgentEvent>,
    first: AgentEvent,
    release: () => void,
  ): Promise<void> {
    const base = { session_id: sessionId, message_id: messageId };
    const aborted = new Promise<'aborted'>((resolve) => this.aborts.set(messageId, () => resolve('aborted')));
    let seq = 0;
    let event: AgentEvent | undefined = first;
    try {
      for (;;) {
        if (!event) {
          this.emit(sessionId, SocketEvent.Error, {
            ...base,
            code: ErrorCode.AgentFailed,
            message: 'The stream ended early.',
          });
          return;
        }
        switch (event.type) {
          case 'token':
            this.emit(sessionId, SocketEvent.Token, { ...base, delta: event.delta, seq: ++seq });
            break;
          case 'tool':
            this.emit(sessionId, SocketEvent.Tool, { ...base, name: event.name, status: event.status });
            break;
          case 'done':
            this.emit(sessionId, SocketEvent.Done, { ...base, content: event.content });
            return;
          case 'error':
            this.emit(sessionId, SocketEvent.Error, { ...base, code: event.code, message: event.message });
            return;
        }
        const r = await Promise.race([events.next(), aborted]);
        if (r === 'aborted') {
          this.emit(sessionId, SocketEvent.Error, {
            ...base,
            code: ErrorCode.Cancelled,
            message: 'The run was cancelled.',
          });
          return;
        }
        event = r.done ? undefined : r.value;
      }
    } catch (err) {
      let code: string = ErrorCode.Internal;
      let message = 'An unexpected error occurred.';
      try {
        const problem = callErrorToProblem(err, this.config.AGENT_RETRY_AFTER_S);
        code = problem.code;
        message = problem.detail;
      } catch {
        this.logger.error({ message_id: messageId, err_name: (err as Error)?.name }, 'socket relay failed');
      }
      this.emit(sessionId, SocketEvent.Error, { ...base, code, message });
    } finally {
      this.aborts.delete(messageId);
      release();
      await this.registry.endRun(messageId);
      // After an abort a next() may still be pending; return() then settles once the agent ends.
      void events.return(undefined).catch(() => undefined);
    }
  }

  private abortLocal(messageId: string): void {
    this.aborts.get(messageId)?.();
  }

  private emit(sessionId: string, event: string, payload: object): void {
    this.metrics.socketEvents.inc({ event });
    this.nsp?.to(sessionRoom(sessionId)).emit(event, payload);
  }
}

function sessionNotFound(): ProblemException {
  return new ProblemException(404, ErrorCode.NotFound, 'The chat session was not found.');
}

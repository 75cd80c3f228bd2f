import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { ErrorCode, type RelayedRunEvent, toChatProposal } from '@neonpro/contracts';
import { Database } from '@neonpro/database';
import type { Principal } from '@neonpro/auth';
import { PolicyRegistry } from '@neonpro/resilience';
import { PinoLogger } from 'nestjs-pino';
import type { Namespace, Socket } from 'socket.io';
import type { Authenticated } from '../auth/auth.types.js';
import { ChatTurnService } from '../chat/chat-turn.service.js';
import { ProblemException } from '../common/problem.js';
import { databaseErrorToProblem as toProblem } from '../common/database-problem.js';
import { agentRunRefusal } from '../common/upstream-problem.js';
import { StreamTracker } from '../lifecycle/stream-tracker.service.js';
import { GatewayMetrics } from '../metrics/gateway-metrics.service.js';
import { QuotaService } from '../plans/quota.service.js';
import { AGENT_POLICY, POSTGRES_POLICY } from '../resilience/gateway-policies.js';
import { RealtimeRegistry } from './realtime-registry.service.js';
import { type ChatSend, sessionRoom, SocketEvent } from './realtime.schema.js';

export interface StartedRun {
  sessionId: string;
  messageId: string;
  /** Starts relaying the run's events to the session's room (call after the ack). */
  relay: () => void;
}

type Target = { emit(event: string, payload: object): unknown };

/**
 * Socket.IO rendering of chat turns (the turn itself is {@link ChatTurnService}). The replica
 * that accepts a message relays the run's events to the session's room; the adapter delivers
 * them wherever the session's sockets are. A client that comes back (on any replica, even after
 * the accepting one restarted) joins with `after` and gets the rest from the run's log. A run
 * never depends on the sender's socket; only `chat:cancel` stops it.
 */
@Injectable()
export class ChatRunService {
  private nsp?: Namespace;

  constructor(
    private readonly turns: ChatTurnService,
    private readonly streams: StreamTracker,
    private readonly policies: PolicyRegistry,
    private readonly quotas: QuotaService,
    private readonly registry: RealtimeRegistry,
    private readonly metrics: GatewayMetrics,
    private readonly logger: PinoLogger,
    @Inject(Database) private readonly db: Database,
  ) {}

  /** The /chat namespace (set once the Socket.IO server is up). */
  get namespace(): Namespace | undefined {
    return this.nsp;
  }

  bind(nsp: Namespace): void {
    this.nsp = nsp;
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
    if (owner === auth.principal.user_id) {
      return;
    }
    if (owner !== undefined) {
      throw sessionNotFound();
    }
    try {
      await this.policies
        .get(POSTGRES_POLICY)
        .execute(() => this.db.withUser(auth.claims, (repos) => repos.chat.getSession(sessionId), { requestId }), {
          retry: true,
        });
    } catch (err) {
      const problem = toProblem(err);
      if (problem instanceof ProblemException && problem.code === ErrorCode.NotFound) {
        throw sessionNotFound();
      }
      throw problem;
    }
  }

  async send(auth: Authenticated, input: ChatSend, requestId: string): Promise<StartedRun> {
    // As on REST: a run the assistant cannot take now (its breaker is open) is refused before it
    // is counted or its session read, so an outage spends no quota and no database work.
    const refused = agentRunRefusal(this.policies.get(AGENT_POLICY));
    if (refused) {
      throw refused;
    }
    await this.countAiRequest(auth.principal);
    let sessionId = input.session_id;
    if (sessionId) {
      await this.assertOwnsSession(auth, sessionId, requestId);
    } else {
      sessionId = randomUUID();
      await this.registry.rememberSession(sessionId, auth.principal.user_id);
    }
    const release = this.streams.begin();
    try {
      const turn = await this.turns.open(
        {
          session_id: sessionId,
          message: input.message,
          client_message_id: input.client_message_id,
          ...(input.confirm ? { confirm: input.confirm } : {}),
        },
        { userId: auth.principal.user_id, requestId },
      );
      const room = {
        emit: (event: string, payload: object) => this.nsp?.to(sessionRoom(turn.sessionId)).emit(event, payload),
      };
      return {
        sessionId: turn.sessionId,
        messageId: turn.messageId,
        relay: () => void this.relay(room, turn.sessionId, turn.messageId, turn.first, turn.events).finally(release),
      };
    } catch (err) {
      release();
      throw err;
    }
  }

  /**
   * `session:join` with `message_id` and `after`: this socket gets the run's events after
   * `after` from its log, then live ones, until done or error (the client drops any `seq` it has).
   */
  async replay(
    socket: Socket,
    userId: string,
    sessionId: string,
    messageId: string,
    after: number,
  ): Promise<() => void> {
    const owned = await this.turns.sessionOf(userId, messageId);
    if (owned !== sessionId) {
      throw new ProblemException(404, ErrorCode.NotFound, 'No chat message with this id.');
    }
    const events = await this.turns.attach(userId, messageId, after);
    return () => {
      const release = this.streams.begin();
      void (async () => {
        const r = await events.next().catch(() => undefined);
        if (!r || r.done) {
          return;
        }
        await this.relay(socket, sessionId, messageId, r.value, events);
      })().finally(release);
    };
  }

  /** Stops a running message of this user, whichever replica accepted it. */
  async cancel(userId: string, messageId: string): Promise<void> {
    await this.turns.cancel(userId, messageId);
  }

  private async relay(
    target: Target,
    sessionId: string,
    messageId: string,
    first: RelayedRunEvent,
    events: AsyncGenerator<RelayedRunEvent, void, undefined>,
  ): Promise<void> {
    const base = { session_id: sessionId, message_id: messageId };
    let event: RelayedRunEvent | undefined = first;
    try {
      for (;;) {
        if (!event) {
          this.emit(target, SocketEvent.Error, {
            ...base,
            code: ErrorCode.AgentFailed,
            message: 'The stream ended early.',
          });
          return;
        }
        const seq = event.seq;
        switch (event.type) {
          case 'token':
            this.emit(target, SocketEvent.Token, { ...base, delta: event.delta, seq });
            break;
          case 'tool':
            this.emit(target, SocketEvent.Tool, { ...base, name: event.name, status: event.status, seq });
            break;
          case 'restart':
            this.emit(target, SocketEvent.Restart, { ...base, seq });
            break;
          case 'proposal':
            this.emit(target, SocketEvent.Proposal, { ...base, ...toChatProposal(event), seq });
            break;
          case 'done':
            this.emit(target, SocketEvent.Done, { ...base, content: event.content, seq });
            return;
          case 'error':
            this.emit(target, SocketEvent.Error, { ...base, code: event.code, message: event.message, seq });
            return;
        }
        const r = await events.next();
        event = r.done ? undefined : r.value;
      }
    } catch (err) {
      let code: string = ErrorCode.Internal;
      let message = 'An unexpected error occurred.';
      try {
        const problem = this.turns.streamFailure(err, messageId);
        code = problem.code;
        message = problem.detail;
      } catch {
        this.logger.error({ message_id: messageId, err_name: (err as Error)?.name }, 'socket relay failed');
      }
      this.emit(target, SocketEvent.Error, { ...base, code, message });
    } finally {
      void events.return(undefined).catch(() => undefined);
    }
  }

  private emit(target: Target, event: string, payload: object): void {
    this.metrics.socketEvents.inc({ event });
    target.emit(event, payload);
  }
}

function sessionNotFound(): ProblemException {
  return new ProblemException(404, ErrorCode.NotFound, 'The chat session was not found.');
}

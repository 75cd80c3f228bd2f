import { Inject, Injectable } from '@nestjs/common';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import type { ModelProvider } from '@neonpro/config';
import type { AgentCallerClaims, AgentChatRequest, AgentEvent } from '@neonpro/contracts';
import { ErrorCode } from '@neonpro/contracts';
import { isDatabaseUnavailable } from '@neonpro/database';
import { Pseudonymizer } from '@neonpro/privacy';
import { circuitBreaker, ConsecutiveBreaker, type CircuitBreakerPolicy, handleWhen } from 'cockatiel';
import { PinoLogger } from 'nestjs-pino';
import { Observable } from 'rxjs';
import { AGENT_CONFIG, type AgentRuntimeConfig } from '../agent.config.js';
import { type ModelTurnRunner, runAgentLoop } from '../agent/agent-loop.js';
import type { ClinicTurn } from '../agent/turn-config.js';
import type { VerifiedRunUser } from '../caller/caller-directory.port.js';
import { CallerRefused, isResolvedCaller, NOT_A_MEMBER } from '../caller/run-caller.service.js';
import { MESSAGES } from '../i18n/messages.js';
import {
  type BeginTurnResult,
  CONVERSATION_STORE,
  type ConversationStore,
  SessionNotFoundError,
} from '../conversation/conversation-store.port.js';
import { tokenize } from '../models/language.js';
import {
  BoundModelRunner,
  type FallbackLink,
  FallbackRunner,
  isProviderFailure,
  PseudonymizingRunner,
} from '../models/model-runners.js';
import { CLINIC_DATA_PORT, type ClinicDataPort } from '../tools/clinic-data.port.js';
import { ClinicToolbox } from '../tools/clinic-tools.js';
import { ToolCache } from '../tools/tool-cache.js';
import { runWithRequestId } from '../persistence/request-context.js';
import { RunUsageMeter } from '../usage/run-usage-meter.js';
import { AgentMetrics } from './agent-metrics.service.js';
import { OverloadedError, RunLimiter } from './run-limiter.js';
import { RunRegistry } from './run-registry.service.js';
import { type TurnContext, TurnContextBuilder } from './turn-context.builder.js';

const UNSUBSCRIBED = new Error('unsubscribed');

/** Lets tests (and the provider-path suite) swap the chat model of a provider. */
export const CHAT_MODEL_FACTORY = Symbol('CHAT_MODEL_FACTORY');
export type ChatModelFactory = (provider: ModelProvider, config: AgentRuntimeConfig) => BaseChatModel;

/** Executes one chat turn and exposes it as the ordered event stream sent back over NATS. */
@Injectable()
export class ChatService {
  private readonly limiter: RunLimiter;
  private readonly turns: TurnContextBuilder;
  private readonly providers: ModelProvider[];
  private readonly models = new Map<ModelProvider, BaseChatModel>();
  /** One breaker per provider for the replica's lifetime, like LiteLLM's per-deployment cooldowns. */
  private readonly breakers = new Map<ModelProvider, CircuitBreakerPolicy>();

  constructor(
    private readonly runs: RunRegistry,
    private readonly metrics: AgentMetrics,
    private readonly logger: PinoLogger,
    @Inject(AGENT_CONFIG) private readonly config: AgentRuntimeConfig,
    @Inject(CLINIC_DATA_PORT) clinicData: ClinicDataPort,
    @Inject(CONVERSATION_STORE) private readonly conversations: ConversationStore,
    @Inject(CHAT_MODEL_FACTORY) modelFactory: ChatModelFactory,
  ) {
    // agent_queue_depth is the shared consumer's pending count (set by the transport), not this limiter's.
    this.limiter = new RunLimiter(config.AGENT_CONCURRENCY, config.AGENT_QUEUE_MAX, ({ running }) => {
      metrics.inflight.set(running);
    });
    const toolbox = new ClinicToolbox(clinicData, {
      cache: new ToolCache(config.AGENT_TOOL_CACHE_TTL_MS, config.AGENT_TOOL_CACHE_MAX),
    });
    this.providers = [...new Set([config.AGENT_MODEL_PROVIDER, ...config.AGENT_MODEL_FALLBACKS])];
    this.turns = new TurnContextBuilder(toolbox, conversations, config.AGENT_CONTEXT_TOKEN_BUDGET, {
      // Only an external provider needs the names the user types masked (the local model sees them).
      maskTypedNames: this.providers.some((p) => p !== 'local'),
    });
    for (const p of this.providers) {
      this.models.set(p, modelFactory(p, config));
      const breaker = circuitBreaker(handleWhen(isProviderFailure), {
        halfOpenAfter: config.AGENT_BREAKER_COOLDOWN_MS,
        breaker: new ConsecutiveBreaker(config.AGENT_BREAKER_THRESHOLD),
      });
      breaker.onBreak(() => this.logger.warn({ provider: p }, 'model provider breaker opened'));
      breaker.onReset(() => this.logger.info({ provider: p }, 'model provider breaker closed'));
      this.breakers.set(p, breaker);
    }
  }

  /** `requestId` (the gateway's) lands in the audit rows of every database access of the run. */
  stream(
    request: AgentChatRequest,
    who: AgentCallerClaims | VerifiedRunUser | undefined,
    requestId?: string,
    clientRequestId?: string,
  ): Observable<AgentEvent> {
    return new Observable<AgentEvent>((subscriber) => {
      if (!who) {
        this.metrics.runs.inc({ outcome: 'unauthorized' });
        subscriber.next({
          type: 'error',
          code: ErrorCode.Unauthorized,
          message: 'The caller identity is missing or invalid.',
        });
        subscriber.complete();
        return undefined;
      }
      const controller = this.runs.start(request.message_id);
      const { signal } = controller;
      let stopTimer: ((labels: { outcome: string; provider?: string }) => void) | undefined;
      let release: (() => void) | undefined;
      let outcome = 'ok';
      let provider: string = this.config.AGENT_MODEL_PROVIDER;
      let meter: RunUsageMeter | undefined;
      /** Known once the membership is read (with the turn's first write, or before the run). */
      let caller = isResolvedCaller(who) ? who : undefined;

      const run = async (): Promise<void> => {
        release = await this.limiter.acquire(signal);
        stopTimer = this.metrics.runDuration.startTimer({ provider });
        meter = new RunUsageMeter(request.session_id, this.config);
        const turnKey = request.client_message_id ?? request.message_id;
        const first = {
          sessionId: request.session_id,
          turnKey,
          content: request.message,
          historyBudget: this.turns.historyTokenBudget,
        };
        let begun: BeginTurnResult;
        if (caller) {
          begun = await this.conversations.beginTurn(caller, first);
        } else {
          if (!this.conversations.beginMemberTurn) {
            throw new Error('a caller of unknown clinic needs a store that reads the membership');
          }
          const started = await this.conversations.beginMemberTurn(who, first);
          if (!started) {
            throw new CallerRefused(NOT_A_MEMBER);
          }
          ({ caller, begun } = started);
        }
        const member = caller;
        if (begun.status === 'answered') {
          // A retried request: replay the stored answer, never run (or book) twice.
          outcome = 'replayed';
          for (const delta of tokenize(begun.answer)) {
            subscriber.next({ type: 'token', delta });
          }
          subscriber.next({ type: 'done', message_id: request.message_id, content: begun.answer });
          return;
        }
        const turn = await this.turns.build(request, caller, turnKey, signal, begun.history);
        // External providers this run sent (pseudonymised) text to: the export's recipients.
        const disclosed = new Set<string>();
        const result = await this.runTurn(turn, signal, (e) => subscriber.next(e), meter, disclosed).finally(() =>
          this.recordDisclosure(member, disclosed, turn.ctx.patientNames),
        );
        provider = result.provider;
        if (result.exhausted) {
          outcome = 'step_limit';
        }
        signal.throwIfAborted();
        const proposal = turn.ctx.newProposal;
        // The card the user confirms: the server's rendering, beside the model's own words.
        if (proposal) {
          subscriber.next({
            type: 'proposal',
            proposal_id: proposal.id,
            action: proposal.action,
            summary: proposal.summary,
            expires_at: proposal.expires_at,
          });
        }
        const usage = meter.finish(provider, result.exhausted ? 'step_limit' : 'ok');
        await this.conversations.completeTurn(member, {
          sessionId: request.session_id,
          turnKey,
          content: result.content,
          proposal,
          patientNames: [...turn.ctx.patientNames],
          usage,
        });
        meter = undefined; // recorded with the turn
        this.countUsage(usage);
        subscriber.next({ type: 'done', message_id: request.message_id, content: result.content });
      };

      runWithRequestId(requestId, run, clientRequestId)
        .catch((err: unknown) => {
          const failure = this.failure(err, signal);
          outcome = failure.outcome;
          subscriber.next(failure.event);
        })
        .finally(() => {
          // A run that reached a model but stored no turn (cancelled, failed) still consumed tokens.
          if (meter?.billable && caller) {
            const usage = meter.finish(provider, outcome === 'cancelled' ? 'cancelled' : 'error');
            this.conversations.recordUsage(caller, usage).then(
              () => this.countUsage(usage),
              (err: unknown) =>
                this.logger.warn({ err_name: err instanceof Error ? err.name : typeof err }, 'run usage not recorded'),
            );
          }
          release?.();
          this.runs.finish(request.message_id, controller);
          this.metrics.runs.inc({ outcome });
          stopTimer?.({ outcome, provider });
          subscriber.complete();
        });

      // Unsubscribing (caller gone) aborts the run; after completion this is a no-op (RxJS tears
      // down every subscription, so the reason is built once, not an Error with a stack per run).
      return () => controller.abort(UNSUBSCRIBED);
    });
  }

  /** Recorded whether the run succeeds or not: a failed call still delivered the text. */
  private async recordDisclosure(
    caller: AgentCallerClaims,
    providers: Set<string>,
    patientNames: Set<string>,
  ): Promise<void> {
    if (providers.size === 0 || patientNames.size === 0 || !this.conversations.recordDisclosure) {
      return;
    }
    await this.conversations
      .recordDisclosure(caller, { providers: [...providers], patientNames: [...patientNames] })
      .catch((err: unknown) =>
        this.logger.warn({ err_name: err instanceof Error ? err.name : typeof err }, 'disclosure not recorded'),
      );
  }

  /** The model loop of one turn: tokens and tool activity are emitted as they happen. */
  private async runTurn(
    { ctx, tools, messages, turn, lang }: TurnContext,
    signal: AbortSignal,
    emit: (event: AgentEvent) => void,
    meter: RunUsageMeter,
    disclosed: Set<string>,
  ): Promise<{ content: string; exhausted: boolean; provider: string }> {
    const runner = this.runnerFor(tools, ctx.patientNames, turn, disclosed);
    const result = await runAgentLoop({
      runner,
      tools,
      messages,
      maxSteps: this.config.AGENT_MAX_STEPS,
      signal,
      exhaustedText: MESSAGES[lang].exhausted,
      hooks: {
        onToken: (delta) => emit({ type: 'token', delta }),
        onTool: (name, status) => {
          emit({ type: 'tool', name, status });
          if (status !== 'started') {
            this.metrics.toolCalls.inc({ tool: name, status });
            meter.addToolCall();
          }
        },
        onUsage: (usage) => {
          this.metrics.modelTokens.inc({ provider: usage.provider, kind: 'input' }, usage.input);
          this.metrics.modelTokens.inc({ provider: usage.provider, kind: 'output' }, usage.output);
          meter.addModelCall(usage);
        },
      },
    });
    return { content: result.content, exhausted: result.exhausted, provider: runner.provider };
  }

  /** The error event (stable code, no personal data) and metrics outcome of a failed run. */
  private failure(err: unknown, signal: AbortSignal): { outcome: string; event: AgentEvent } {
    if (err instanceof CallerRefused) {
      // The reason stays in the agent's log; the bus only learns "unauthorized".
      this.logger.warn({ reason: err.message }, 'run refused');
      return {
        outcome: 'unauthorized',
        event: { type: 'error', code: ErrorCode.Unauthorized, message: 'The caller could not be verified.' },
      };
    }
    if (err instanceof OverloadedError) {
      this.metrics.overloaded.inc();
      return {
        outcome: 'overloaded',
        event: { type: 'error', code: ErrorCode.AgentOverloaded, message: 'The assistant is busy; retry in a moment.' },
      };
    }
    if (signal.aborted) {
      return {
        outcome: 'cancelled',
        event: { type: 'error', code: ErrorCode.Cancelled, message: 'The run was cancelled.' },
      };
    }
    if (err instanceof SessionNotFoundError) {
      return {
        outcome: 'not_found',
        event: { type: 'error', code: ErrorCode.NotFound, message: 'Chat session not found.' },
      };
    }
    // An outage, not a bad answer: the gateway turns it into a 503 the client may retry.
    if (isDatabaseUnavailable(err)) {
      return {
        outcome: 'database_unavailable',
        event: {
          type: 'error',
          code: ErrorCode.UpstreamUnavailable,
          message: 'The database is unavailable; retry shortly.',
        },
      };
    }
    // Only the error's class: messages of provider or database errors may carry personal data.
    this.logger.error({ err_name: err instanceof Error ? err.name : typeof err }, 'agent run failed');
    return {
      outcome: 'error',
      event: { type: 'error', code: ErrorCode.AgentFailed, message: 'The assistant could not answer.' },
    };
  }

  private countUsage(usage: { provider: string; input_tokens: number; output_tokens: number }): void {
    this.metrics.usageTokens.inc({ provider: usage.provider, direction: 'input' }, usage.input_tokens);
    this.metrics.usageTokens.inc({ provider: usage.provider, direction: 'output' }, usage.output_tokens);
  }

  private runnerFor(
    tools: ReturnType<ClinicToolbox['tools']>,
    patientNames: Set<string>,
    turn: ClinicTurn,
    disclosed: Set<string>,
  ): ModelTurnRunner {
    // One pseudonymizer per run: placeholders are stable across all turns sent in this run.
    const pseudonymizer = new Pseudonymizer();
    const links: FallbackLink[] = this.providers.map((p) => {
      const model = this.models.get(p);
      const breaker = this.breakers.get(p);
      if (!model || !breaker) {
        throw new Error(`provider ${p} not initialised`);
      }
      const bound = new BoundModelRunner(p, model, tools, turn);
      // The local model never leaves the process, so it sees the real data.
      const runner =
        p === 'local'
          ? bound
          : new PseudonymizingRunner(
              bound,
              pseudonymizer,
              () => patientNames,
              () => disclosed.add(p),
            );
      return { provider: p, runner, breaker };
    });
    return new FallbackRunner(links, (from, reason) => {
      this.metrics.modelFallbacks.inc({ provider: from, reason });
      this.logger.warn({ provider: from, reason }, 'model provider failed; trying the next one');
    });
  }
}

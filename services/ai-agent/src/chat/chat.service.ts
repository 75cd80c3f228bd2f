import { Inject, Injectable } from '@nestjs/common';
import { AIMessage, type BaseMessage, HumanMessage, SystemMessage } from '@langchain/core/messages';
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
import { buildSystemPrompt } from '../agent/system-prompt.js';
import {
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
import { ClinicToolbox, newToolRunContext } from '../tools/clinic-tools.js';
import { localDate } from '../tools/clinic-time.js';
import { ToolCache } from '../tools/tool-cache.js';
import { runWithRequestId } from '../persistence/request-context.js';
import { AgentMetrics } from './agent-metrics.service.js';
import { OverloadedError, RunLimiter } from './run-limiter.js';
import { RunRegistry } from './run-registry.service.js';

/** Lets tests (and the provider-path suite) swap the chat model of a provider. */
export const CHAT_MODEL_FACTORY = Symbol('CHAT_MODEL_FACTORY');
export type ChatModelFactory = (provider: ModelProvider, config: AgentRuntimeConfig) => BaseChatModel;

const WEEKDAY_PT = ['domingo', 'segunda-feira', 'terça-feira', 'quarta-feira', 'quinta-feira', 'sexta-feira', 'sábado'];

/** Executes one chat turn and exposes it as the ordered event stream sent back over NATS. */
@Injectable()
export class ChatService {
  private readonly limiter: RunLimiter;
  private readonly toolbox: ClinicToolbox;
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
    this.toolbox = new ClinicToolbox(clinicData, {
      cache: new ToolCache(config.AGENT_TOOL_CACHE_TTL_MS, config.AGENT_TOOL_CACHE_MAX),
    });
    this.providers = [...new Set([config.AGENT_MODEL_PROVIDER, ...config.AGENT_MODEL_FALLBACKS])];
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
    caller: AgentCallerClaims | undefined,
    requestId?: string,
    clientRequestId?: string,
  ): Observable<AgentEvent> {
    return new Observable<AgentEvent>((subscriber) => {
      if (!caller) {
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

      const run = async (): Promise<void> => {
        release = await this.limiter.acquire(signal);
        stopTimer = this.metrics.runDuration.startTimer({ provider });
        const turnKey = request.client_message_id ?? request.message_id;
        const begun = await this.conversations.beginTurn(caller, {
          sessionId: request.session_id,
          turnKey,
          content: request.message,
        });
        if (begun.status === 'answered') {
          // A retried request: replay the stored answer, never run (or book) twice.
          outcome = 'replayed';
          for (const delta of tokenize(begun.answer)) subscriber.next({ type: 'token', delta });
          subscriber.next({ type: 'done', message_id: request.message_id, content: begun.answer });
          return;
        }
        const [history, info] = await Promise.all([
          this.conversations.loadHistory(caller, {
            sessionId: request.session_id,
            tokenBudget: this.config.AGENT_CONTEXT_TOKEN_BUDGET,
            excludeTurnKey: turnKey,
          }),
          this.toolbox.clinicInfo(caller),
        ]);
        signal.throwIfAborted();
        const last = history.at(-1);
        const pendingProposal = last?.role === 'assistant' ? last.proposal : undefined;
        const timezone = await this.toolbox.timezone(caller);
        const now = new Date();
        const today = localDate(now, timezone);
        const ctx = newToolRunContext({
          caller,
          sessionId: request.session_id,
          userMessage: request.message,
          pendingProposal,
        });
        // Names seen in earlier turns are masked too: the history (and the user retyping them)
        // must not leak to an external provider any more than this turn's tool results.
        for (const t of history) {
          for (const name of t.patient_names ?? []) ctx.patientNames.add(name);
          if (t.proposal) ctx.patientNames.add(t.proposal.patient_name);
        }
        // Patients the user names (this turn or earlier ones) are masked before the first call to
        // an external provider, before any tool result has registered them.
        if (this.providers.some((p) => p !== 'local') && this.conversations.patientNamesIn) {
          const typed = [...history.filter((t) => t.role === 'user').map((t) => t.content), request.message];
          for (const name of await this.conversations.patientNamesIn(caller, typed.join('\n')))
            ctx.patientNames.add(name);
        }
        const tools = this.toolbox.tools(ctx);
        const messages: BaseMessage[] = [
          new SystemMessage(
            buildSystemPrompt({
              clinicName: info.name,
              today,
              weekdayName: WEEKDAY_PT[new Date(`${today}T12:00:00Z`).getUTCDay()],
              timezone,
              role: caller.role,
              pendingProposal,
            }),
          ),
          ...history.map((t) => (t.role === 'user' ? new HumanMessage(t.content) : new AIMessage(t.content))),
          new HumanMessage(request.message),
        ];
        // External providers this run sent (pseudonymised) text to: the export's recipients.
        const disclosed = new Set<string>();
        const runner = this.runnerFor(tools, ctx.patientNames, disclosed);
        const result = await runAgentLoop({
          runner,
          tools,
          messages,
          maxSteps: this.config.AGENT_MAX_STEPS,
          signal,
          exhaustedText: /[ãõçáéíóú]|\b(que|qual|quais|consultas?|hoje|amanha)\b/i.test(request.message)
            ? ' Não consegui concluir esta solicitação; tente reformulá-la.'
            : ' I could not complete this request; please rephrase it.',
          hooks: {
            onToken: (delta) => subscriber.next({ type: 'token', delta }),
            onTool: (name, status) => {
              subscriber.next({ type: 'tool', name, status });
              if (status !== 'started') this.metrics.toolCalls.inc({ tool: name, status });
            },
            onUsage: ({ input, output, provider: p }) => {
              this.metrics.modelTokens.inc({ provider: p, kind: 'input' }, input);
              this.metrics.modelTokens.inc({ provider: p, kind: 'output' }, output);
            },
          },
        }).finally(() => this.recordDisclosure(caller, disclosed, ctx.patientNames));
        provider = runner.provider;
        if (result.exhausted) outcome = 'step_limit';
        signal.throwIfAborted();
        await this.conversations.completeTurn(caller, {
          sessionId: request.session_id,
          turnKey,
          content: result.content,
          proposal: ctx.newProposal,
          patientNames: [...ctx.patientNames],
        });
        subscriber.next({ type: 'done', message_id: request.message_id, content: result.content });
      };

      runWithRequestId(requestId, run, clientRequestId)
        .catch((err: unknown) => {
          if (err instanceof OverloadedError) {
            outcome = 'overloaded';
            this.metrics.overloaded.inc();
            subscriber.next({
              type: 'error',
              code: ErrorCode.AgentOverloaded,
              message: 'The assistant is busy; retry in a moment.',
            });
          } else if (signal.aborted) {
            outcome = 'cancelled';
            subscriber.next({ type: 'error', code: ErrorCode.Cancelled, message: 'The run was cancelled.' });
          } else if (err instanceof SessionNotFoundError) {
            outcome = 'not_found';
            subscriber.next({ type: 'error', code: ErrorCode.NotFound, message: 'Chat session not found.' });
          } else if (isDatabaseUnavailable(err)) {
            // An outage, not a bad answer: the gateway turns it into a 503 the client may retry.
            outcome = 'database_unavailable';
            subscriber.next({
              type: 'error',
              code: ErrorCode.UpstreamUnavailable,
              message: 'The database is unavailable; retry shortly.',
            });
          } else {
            outcome = 'error';
            // Only the error's class: messages of provider or database errors may carry personal data.
            this.logger.error({ err_name: err instanceof Error ? err.name : typeof err }, 'agent run failed');
            subscriber.next({ type: 'error', code: ErrorCode.AgentFailed, message: 'The assistant could not answer.' });
          }
        })
        .finally(() => {
          release?.();
          this.runs.finish(request.message_id, controller);
          this.metrics.runs.inc({ outcome });
          stopTimer?.({ outcome, provider });
          subscriber.complete();
        });

      // Unsubscribing (caller gone) aborts the run; after completion this is a no-op.
      return () => controller.abort(new Error('unsubscribed'));
    });
  }

  /** Recorded whether the run succeeds or not: a failed call still delivered the text. */
  private async recordDisclosure(
    caller: AgentCallerClaims,
    providers: Set<string>,
    patientNames: Set<string>,
  ): Promise<void> {
    if (providers.size === 0 || patientNames.size === 0 || !this.conversations.recordDisclosure) return;
    await this.conversations
      .recordDisclosure(caller, { providers: [...providers], patientNames: [...patientNames] })
      .catch((err: unknown) =>
        this.logger.warn({ err_name: err instanceof Error ? err.name : typeof err }, 'disclosure not recorded'),
      );
  }

  private runnerFor(
    tools: ReturnType<ClinicToolbox['tools']>,
    patientNames: Set<string>,
    disclosed: Set<string>,
  ): ModelTurnRunner {
    // One pseudonymizer per run: placeholders are stable across all turns sent in this run.
    const pseudonymizer = new Pseudonymizer();
    const links: FallbackLink[] = this.providers.map((p) => {
      const model = this.models.get(p);
      const breaker = this.breakers.get(p);
      if (!model || !breaker) throw new Error(`provider ${p} not initialised`);
      const bound = new BoundModelRunner(p, model, tools);
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

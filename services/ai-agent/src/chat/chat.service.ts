import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable } from '@nestjs/common';
import type { AgentChatRequest, AgentEvent } from '@neonpro/contracts';
import { ErrorCode } from '@neonpro/contracts';
import { PinoLogger } from 'nestjs-pino';
import { Observable } from 'rxjs';
import { AGENT_CONFIG, type AgentRuntimeConfig } from '../agent.config.js';
import { AgentMetrics } from './agent-metrics.service.js';
import { composeLocalReply, tokenize } from './local-responder.js';
import { OverloadedError, RunLimiter } from './run-limiter.js';
import { RunRegistry } from './run-registry.service.js';

/** Executes one chat turn and exposes it as the ordered event stream sent back over NATS. */
@Injectable()
export class ChatService {
  private readonly limiter: RunLimiter;

  constructor(
    private readonly runs: RunRegistry,
    private readonly metrics: AgentMetrics,
    private readonly logger: PinoLogger,
    @Inject(AGENT_CONFIG) private readonly config: AgentRuntimeConfig,
  ) {
    this.limiter = new RunLimiter(config.AGENT_CONCURRENCY, config.AGENT_QUEUE_MAX, ({ running, queued }) => {
      metrics.inflight.set(running);
      metrics.queueDepth.set(queued);
    });
  }

  stream(request: AgentChatRequest): Observable<AgentEvent> {
    return new Observable<AgentEvent>((subscriber) => {
      const controller = this.runs.start(request.message_id);
      const { signal } = controller;
      let stopTimer: ((labels: { outcome: string }) => void) | undefined;
      let release: (() => void) | undefined;
      let outcome = 'ok';

      const run = async (): Promise<void> => {
        release = await this.limiter.acquire(signal);
        stopTimer = this.metrics.runDuration.startTimer({ provider: 'local' });
        const content = composeLocalReply(request.message);
        for (const delta of tokenize(content)) {
          if (this.config.AGENT_TOKEN_DELAY_MS > 0)
            await sleep(this.config.AGENT_TOKEN_DELAY_MS, undefined, { signal });
          signal.throwIfAborted();
          subscriber.next({ type: 'token', delta });
        }
        subscriber.next({ type: 'done', message_id: request.message_id, content });
      };

      run()
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
          } else {
            outcome = 'error';
            this.logger.error({ err_name: err instanceof Error ? err.name : typeof err }, 'agent run failed');
            subscriber.next({ type: 'error', code: ErrorCode.AgentFailed, message: 'The assistant could not answer.' });
          }
        })
        .finally(() => {
          release?.();
          this.runs.finish(request.message_id, controller);
          this.metrics.runs.inc({ outcome });
          stopTimer?.({ outcome });
          subscriber.complete();
        });

      // Unsubscribing (caller gone) aborts the run; after completion this is a no-op.
      return () => controller.abort(new Error('unsubscribed'));
    });
  }
}

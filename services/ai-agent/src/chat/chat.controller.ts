import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { AGENT_PATTERNS, type AgentChatRequest, type AgentEvent, ErrorCode, NATS_HEADERS } from '@neonpro/contracts';
import { isDatabaseUnavailable } from '@neonpro/database';
import { parseTraceparent, resolveRequestId, sanitizeClientRequestId } from '@neonpro/observability';
import { PinoLogger } from 'nestjs-pino';
import { defer, from, Observable, type Subscription, switchMap } from 'rxjs';
import { CallerRefused, RunCallerService } from '../caller/run-caller.service.js';
import type { JetStreamRunContext } from '../nats/jetstream-run.context.js';
import { AgentMetrics } from './agent-metrics.service.js';
import { ChatService } from './chat.service.js';
import { RunRegistry } from './run-registry.service.js';

@Controller()
export class ChatController {
  constructor(
    private readonly chat: ChatService,
    private readonly callers: RunCallerService,
    private readonly runs: RunRegistry,
    private readonly metrics: AgentMetrics,
    private readonly logger: PinoLogger,
  ) {}

  /**
   * One run from the AGENT_RUNS work queue, decoded and validated by the transport, which calls
   * this directly (`JetStreamAgentServer.handleRunsWith`), not through Nest's RPC pipeline. Every
   * line logged while it runs carries the gateway's request id, the client's and the trace; the
   * run ends with one line at info (or error).
   */
  run(request: AgentChatRequest, ctx: JetStreamRunContext): Observable<AgentEvent> {
    return new Observable<AgentEvent>((subscriber) => {
      const started = performance.now();
      const elapsed = (): number => Math.round((performance.now() - started) * 10) / 10;
      let subscription: Subscription | undefined;
      // Subscribed inside the context, so the whole run (every await in it) sees it.
      this.logger.runInContext(
        () => {
          subscription = this.handleChat(request, ctx).subscribe({
            next: (e) => subscriber.next(e),
            error: (err: unknown) => {
              this.logger.error({ err, response_time_ms: elapsed() }, 'run errored');
              subscriber.error(err);
            },
            complete: () => {
              this.logger.info({ message_id: request.message_id, response_time_ms: elapsed() }, 'run completed');
              subscriber.complete();
            },
          });
        },
        { bindings: runLogBindings(ctx) },
      );
      return () => subscription?.unsubscribe();
    });
  }

  private handleChat(request: AgentChatRequest, ctx: JetStreamRunContext): Observable<AgentEvent> {
    return defer(() => from(this.callers.resolve(ctx.header(NATS_HEADERS.grant), request))).pipe(
      switchMap((caller) =>
        this.chat.stream(
          request,
          caller,
          ctx.header(NATS_HEADERS.requestId),
          sanitizeClientRequestId(ctx.header(NATS_HEADERS.clientRequestId)),
        ),
      ),
      (source) =>
        new Observable<AgentEvent>((subscriber) =>
          source.subscribe({
            next: (e) => subscriber.next(e),
            complete: () => subscriber.complete(),
            error: (err: unknown) => {
              if (err instanceof CallerRefused) {
                this.metrics.runs.inc({ outcome: 'unauthorized' });
                // The reason stays in the agent's log; the bus only learns "unauthorized".
                this.logger.warn({ message_id: request.message_id, reason: err.message }, 'run refused');
                subscriber.next({
                  type: 'error',
                  code: ErrorCode.Unauthorized,
                  message: 'The caller could not be verified.',
                });
              } else if (isDatabaseUnavailable(err)) {
                subscriber.next({
                  type: 'error',
                  code: ErrorCode.UpstreamUnavailable,
                  message: 'The database is unavailable; retry shortly.',
                });
              } else {
                subscriber.next({
                  type: 'error',
                  code: ErrorCode.AgentFailed,
                  message: 'The assistant could not answer.',
                });
              }
              subscriber.complete();
            },
          }),
        ),
    );
  }

  /** Broadcast: the replica running this message aborts it (queued ones are skipped by the transport). */
  @EventPattern(AGENT_PATTERNS.cancel)
  handleCancel(@Payload() data: { message_id: string }): void {
    if (this.runs.cancel(data.message_id)) {
      this.logger.info({ message_id: data.message_id }, 'run cancelled');
    }
  }
}

/** What every log line of a run carries: the gateway's request id, the client's own, and the W3C trace. */
function runLogBindings(ctx: JetStreamRunContext): Record<string, string> {
  const trace = parseTraceparent(ctx.header(NATS_HEADERS.traceparent));
  const client = sanitizeClientRequestId(ctx.header(NATS_HEADERS.clientRequestId));
  return {
    request_id: resolveRequestId(ctx.header(NATS_HEADERS.requestId)),
    ...(trace ? { trace_id: trace.traceId, span_id: trace.spanId } : {}),
    ...(client ? { client_request_id: client } : {}),
  };
}

import { randomUUID } from 'node:crypto';
import { type AgentChatRequest, type AgentEvent, ErrorCode } from '@neonpro/contracts';
import type { PolicyRegistry } from '@neonpro/resilience';
import { ProblemException } from '../common/problem.js';
import { upstreamProblem } from '../common/upstream-problem.js';
import { AGENT_POLICY } from '../resilience/gateway-policies.js';
import { type AgentCallContext, AgentCallError, type AgentClient } from './agent-client.service.js';

// One mapping for REST, SSE and Socket.IO, so every client sees the same codes and retry hints
// for the same failure.

export function callErrorToProblem(err: unknown, retryAfterS: number): ProblemException {
  if (err instanceof ProblemException) return err;
  const upstream = upstreamProblem(err, 'agent');
  if (upstream) return upstream;
  if (!(err instanceof AgentCallError)) throw err;
  switch (err.kind) {
    case 'no_responders':
    case 'disconnected':
      return new ProblemException(503, ErrorCode.AgentUnavailable, err.message, { retryAfter: retryAfterS });
    case 'timeout':
      return new ProblemException(504, ErrorCode.AgentTimeout, err.message);
    case 'protocol':
      return new ProblemException(502, ErrorCode.AgentFailed, err.message);
  }
}

export function agentErrorToProblem(
  event: Extract<AgentEvent, { type: 'error' }>,
  retryAfterS: number,
): ProblemException {
  switch (event.code) {
    case ErrorCode.AgentOverloaded:
    case ErrorCode.ShuttingDown:
    case ErrorCode.UpstreamUnavailable: // the agent's database is down: retryable like an overload
      return new ProblemException(503, event.code, event.message, { retryAfter: retryAfterS });
    case ErrorCode.Cancelled:
      return new ProblemException(409, event.code, event.message);
    case ErrorCode.NotFound:
      return new ProblemException(404, ErrorCode.NotFound, 'The chat session was not found.');
    case ErrorCode.Unauthorized:
      return new ProblemException(401, ErrorCode.Unauthorized, 'Authentication is required.');
    case ErrorCode.InvalidMessage:
      return new ProblemException(502, ErrorCode.AgentFailed, 'The assistant rejected the request.');
    default:
      return new ProblemException(502, event.code, event.message);
  }
}

/**
 * Starts an agent call under the `agent` policy (bulkhead, breaker, optional retry) and waits for
 * its first event, so early failures become proper problems. Each attempt gets its own message id
 * (from `attemptId`) so a cancel sent for a failed attempt can never hit the retry.
 */
export async function openAgentCall(
  agent: AgentClient,
  policies: PolicyRegistry,
  turn: Omit<AgentChatRequest, 'message_id'>,
  ctx: AgentCallContext,
  opts: { retry: boolean; retryAfterS: number; attemptId?: (attempt: number) => string },
): Promise<{ events: AsyncGenerator<AgentEvent>; first: AgentEvent; messageId: string }> {
  let attempt = 0;
  try {
    return await policies.get(AGENT_POLICY).execute(
      async (signal) => {
        const messageId = opts.attemptId ? opts.attemptId(attempt++) : randomUUID();
        const events = agent.chat({ ...turn, message_id: messageId }, ctx);
        try {
          const r = await events.next();
          if (r.done) throw new AgentCallError('protocol', 'The assistant ended the stream without an answer.');
          // The policy gave up on this attempt meanwhile: nobody will read the stream.
          if (signal.aborted) throw new AgentCallError('timeout', 'The assistant did not answer in time.');
          return { events, first: r.value, messageId };
        } catch (err) {
          await events.return(undefined);
          throw err;
        }
      },
      { retry: opts.retry },
    );
  } catch (err) {
    throw callErrorToProblem(err, opts.retryAfterS);
  }
}

import { type AgentEvent, ErrorCode } from '@neonpro/contracts';
import { ProblemException } from '../common/problem.js';
import { upstreamProblem } from '../common/upstream-problem.js';
import { AgentCallError } from './agent-client.service.js';

// One mapping for REST, SSE and Socket.IO, so every client sees the same codes and retry hints
// for the same failure.

export function callErrorToProblem(err: unknown, retryAfterS: number): ProblemException {
  if (err instanceof ProblemException) {
    return err;
  }
  const upstream = upstreamProblem(err, 'agent');
  if (upstream) {
    return upstream;
  }
  if (!(err instanceof AgentCallError)) {
    throw err;
  }
  switch (err.kind) {
    case 'overloaded':
      return new ProblemException(503, ErrorCode.AgentOverloaded, err.message, { retryAfter: retryAfterS });
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

import { ErrorCode } from '@neonpro/contracts';
import { isDatabaseUnavailable } from '@neonpro/database';
import { stackless, UpstreamTimeoutError, UpstreamUnavailableError } from '@neonpro/resilience';
import { ProblemException } from './problem.js';

/** The gateway's upstreams, each behind its resilience policy (resilience/gateway-policies.ts). */
export type Upstream = 'agent' | 'database' | 'auth';

const UNAVAILABLE: Record<Upstream, string> = {
  agent: 'The assistant is unavailable; retry.',
  database: 'The database is unavailable; retry.',
  auth: 'The authentication service is unavailable; retry.',
};

/** Retry-After (seconds) when an upstream failed without saying for how long. */
const DEFAULT_RETRY_AFTER_S: Record<Upstream, number> = { agent: 2, database: 2, auth: 5 };

/** A fast 503 `upstream_unavailable` naming the upstream. */
export function upstreamUnavailable(
  upstream: Upstream,
  retryAfterS = DEFAULT_RETRY_AFTER_S[upstream],
): ProblemException {
  return new ProblemException(503, ErrorCode.UpstreamUnavailable, UNAVAILABLE[upstream], { retryAfter: retryAfterS });
}

/**
 * The one mapping of a policy refusal (breaker open, bulkhead full) or timeout to the problem
 * every client sees (REST, SSE and Socket.IO alike); undefined for any other error.
 */
export function upstreamProblem(err: unknown, upstream: Upstream): ProblemException | undefined {
  if (err instanceof UpstreamUnavailableError) {
    return refusalProblem(err, upstream);
  }
  if (err instanceof UpstreamTimeoutError) {
    // A silent assistant is a gateway timeout; the database and auth answer fast or not at all.
    if (upstream === 'agent') {
      return new ProblemException(504, ErrorCode.AgentTimeout, 'The assistant did not answer in time.');
    }
    return upstreamUnavailable(upstream);
  }
  return undefined;
}

/** Postgres unreachable, breaker open or too slow: a fast 503, never a 500 or a hang. */
export function databaseUnavailable(err: unknown): ProblemException | undefined {
  return upstreamProblem(err, 'database') ?? (isDatabaseUnavailable(err) ? upstreamUnavailable('database') : undefined);
}

/** A policy's refusal (breaker open, bulkhead full) as its 503 problem, with Retry-After. */
function refusalProblem(err: UpstreamUnavailableError, upstream: Upstream): ProblemException {
  const retryAfter = Math.max(1, Math.ceil(err.retryAfterMs / 1000));
  if (upstream !== 'agent') {
    return upstreamUnavailable(upstream, retryAfter);
  }
  return new ProblemException(
    503,
    ErrorCode.UpstreamUnavailable,
    err.reason === 'breaker_open'
      ? 'The assistant is failing; calls are paused for a moment.'
      : 'The assistant is at capacity; retry shortly.',
    { retryAfter },
  );
}

/**
 * The problem that refuses an agent run up front while the agent breaker is open (counted as the
 * policy's rejection), or undefined when runs may start. Asked before anything is counted or read
 * for the run: the REST route's hook and guard, and Socket.IO's `chat:send`. Built without a stack
 * trace: an open breaker answers every request this way.
 */
export function agentRunRefusal(agent: {
  refusal(): UpstreamUnavailableError | undefined;
}): ProblemException | undefined {
  const refused = agent.refusal();
  return refused && stackless(() => refusalProblem(refused, 'agent'));
}

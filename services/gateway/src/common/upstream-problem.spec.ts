import { UpstreamTimeoutError, UpstreamUnavailableError } from '@neonpro/resilience';
import { agentRunRefusal, databaseUnavailable, upstreamProblem, upstreamUnavailable } from './upstream-problem.js';

describe('upstream → problem (one mapping for agent, database and Supabase Auth)', () => {
  it('an open breaker or full bulkhead is a 503 upstream_unavailable with its Retry-After', () => {
    for (const upstream of ['agent', 'database', 'auth'] as const) {
      const p = upstreamProblem(new UpstreamUnavailableError(upstream, 'breaker_open', 2500), upstream);
      expect(p?.getStatus()).toBe(503);
      expect(p?.code).toBe('upstream_unavailable');
      expect(p?.problemOptions.retryAfter).toBe(3);
    }
    expect(upstreamProblem(new UpstreamUnavailableError('agent', 'bulkhead_full', 1000), 'agent')?.detail).toMatch(
      /capacity/,
    );
  });

  it('a timeout is 504 agent_timeout for the agent, 503 for the others', () => {
    expect(upstreamProblem(new UpstreamTimeoutError('agent'), 'agent')?.code).toBe('agent_timeout');
    expect(upstreamProblem(new UpstreamTimeoutError('agent'), 'agent')?.getStatus()).toBe(504);
    const db = upstreamProblem(new UpstreamTimeoutError('postgres'), 'database');
    expect([db?.getStatus(), db?.code, db?.problemOptions.retryAfter]).toEqual([503, 'upstream_unavailable', 2]);
    expect(upstreamUnavailable('auth').problemOptions.retryAfter).toBe(5);
  });

  it('leaves every other error alone', () => {
    expect(upstreamProblem(new Error('boom'), 'agent')).toBeUndefined();
    expect(databaseUnavailable(new Error('syntax error'))).toBeUndefined();
    expect(databaseUnavailable(Object.assign(new Error('down'), { code: 'ECONNREFUSED' }))?.getStatus()).toBe(503);
  });

  it('refuses an agent run up front with the breaker problem, stackless, only while the breaker refuses', () => {
    let open = true;
    let counted = 0;
    const agent = {
      refusal: () => {
        if (!open) {
          return undefined;
        }
        counted++;
        return new UpstreamUnavailableError('agent', 'breaker_open', 4200);
      },
    };
    const p = agentRunRefusal(agent);
    expect([p?.getStatus(), p?.code, p?.problemOptions.retryAfter]).toEqual([503, 'upstream_unavailable', 5]);
    expect(p?.detail).toBe(
      upstreamProblem(new UpstreamUnavailableError('agent', 'breaker_open', 4200), 'agent')?.detail,
    );
    expect(p?.stack?.split('\n')).toHaveLength(1);
    open = false;
    expect(agentRunRefusal(agent)).toBeUndefined();
    expect(counted).toBe(1);
  });
});

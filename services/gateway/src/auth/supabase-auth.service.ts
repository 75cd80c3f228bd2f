import { Inject, Injectable } from '@nestjs/common';
import { ErrorCode } from '@neonpro/contracts';
import { PolicyRegistry } from '@neonpro/resilience';
import type { AuthError, Session } from '@supabase/supabase-js';
import { ProblemException } from '../common/problem.js';
import { upstreamProblem, upstreamUnavailable } from '../common/upstream-problem.js';
import { GATEWAY_CONFIG, type GatewayRuntimeConfig } from '../gateway.config.js';
import { SUPABASE_AUTH_POLICY, isSupabaseAuthFailure } from '../resilience/gateway-policies.js';
import type { SessionResponse } from './auth.schema.js';

/** Login and refresh through Supabase Auth with supabase-js; the gateway keeps no session state. */
@Injectable()
export class SupabaseAuthService {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayRuntimeConfig,
    private readonly policies: PolicyRegistry,
  ) {}

  // One short-lived client per call: supabase-js keeps the session in the client, and callers
  // must never share one. supabase-js (with its realtime, storage and postgrest clients, ~2 MiB
  // of heap) is loaded on the first login or refresh, not at startup: most replicas' traffic is
  // bearer-token requests and sockets, verified locally.
  private async client() {
    const { createClient } = await import('@supabase/supabase-js');
    const timeoutMs = this.config.AUTH_UPSTREAM_TIMEOUT_MS;
    return createClient(this.config.SUPABASE_URL, this.config.SUPABASE_ANON_KEY, {
      auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
      global: { fetch: (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(timeoutMs) }) },
    });
  }

  async login(email: string, password: string): Promise<SessionResponse> {
    const { data, error } = await this.viaPolicy(async () =>
      (await this.client()).auth.signInWithPassword({ email, password }),
    );
    if (error || !data.session) {
      throw this.toProblem(error, ErrorCode.InvalidCredentials, 'E-mail or password is wrong.');
    }
    return toResponse(data.session);
  }

  async refresh(refreshToken: string): Promise<SessionResponse> {
    const { data, error } = await this.viaPolicy(async () =>
      (await this.client()).auth.refreshSession({ refresh_token: refreshToken }),
    );
    if (error || !data.session) {
      throw this.toProblem(error, ErrorCode.InvalidRefreshToken, 'The refresh token is not valid.');
    }
    return toResponse(data.session);
  }

  /**
   * Runs a Supabase Auth call under the `supabase-auth` policy (breaker, bulkhead). supabase-js
   * returns outages as `{error}` instead of throwing, so those are thrown for the breaker to see;
   * wrong credentials are answers, not outages. Logins are never retried.
   */
  private async viaPolicy<T extends { error: AuthError | null }>(call: () => Promise<T>): Promise<T> {
    try {
      return await this.policies.get(SUPABASE_AUTH_POLICY).execute(async () => {
        const result = await call();
        if (result.error && isSupabaseAuthFailure(result.error)) {
          throw result.error;
        }
        return result;
      });
    } catch (err) {
      throw upstreamProblem(err, 'auth') ?? (isSupabaseAuthFailure(err) ? upstreamUnavailable('auth') : err);
    }
  }

  private toProblem(error: AuthError | null, code: string, detail: string): ProblemException {
    const status = error?.status ?? 0;
    if (!error || status === 0 || status >= 500 || error.name === 'AuthRetryableFetchError') {
      return upstreamUnavailable('auth');
    }
    if (status === 429) {
      return new ProblemException(429, ErrorCode.RateLimited, 'Too many attempts; retry later.', { retryAfter: 60 });
    }
    return new ProblemException(401, code, detail);
  }
}

function toResponse(s: Session): SessionResponse {
  return {
    access_token: s.access_token,
    refresh_token: s.refresh_token,
    expires_in: s.expires_in,
    token_type: 'bearer',
    user: { id: s.user.id, email: s.user.email ?? null },
  };
}

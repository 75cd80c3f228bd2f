import { Inject, Injectable } from '@nestjs/common';
import { ErrorCode } from '@neonpro/contracts';
import { type AuthError, createClient, type Session } from '@supabase/supabase-js';
import { ProblemException } from '../common/problem.js';
import { GATEWAY_CONFIG, type GatewayRuntimeConfig } from '../gateway.config.js';
import type { SessionResponse } from './auth.schema.js';

/** Login and refresh through Supabase Auth with supabase-js; the gateway keeps no session state. */
@Injectable()
export class SupabaseAuthService {
  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayRuntimeConfig) {}

  // One short-lived client per call: supabase-js keeps the session in the client, and callers
  // must never share one.
  private client() {
    const timeoutMs = this.config.AUTH_UPSTREAM_TIMEOUT_MS;
    return createClient(this.config.SUPABASE_URL, this.config.SUPABASE_ANON_KEY, {
      auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
      global: { fetch: (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(timeoutMs) }) },
    });
  }

  async login(email: string, password: string): Promise<SessionResponse> {
    const { data, error } = await this.bounded(this.client().auth.signInWithPassword({ email, password }));
    if (error || !data.session) throw this.toProblem(error, 'invalid_credentials', 'E-mail or password is wrong.');
    return toResponse(data.session);
  }

  async refresh(refreshToken: string): Promise<SessionResponse> {
    const { data, error } = await this.bounded(this.client().auth.refreshSession({ refresh_token: refreshToken }));
    if (error || !data.session) throw this.toProblem(error, 'invalid_refresh_token', 'The refresh token is not valid.');
    return toResponse(data.session);
  }

  /** supabase-js retries network failures on refresh for up to ~30 s: bound the whole call. */
  private async bounded<T>(p: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_r, reject) => {
      timer = setTimeout(() => reject(upstreamUnavailable()), this.config.AUTH_UPSTREAM_TIMEOUT_MS);
    });
    try {
      return await Promise.race([p, timeout]);
    } catch (err) {
      if (err instanceof ProblemException) throw err;
      throw upstreamUnavailable();
    } finally {
      clearTimeout(timer);
    }
  }

  private toProblem(error: AuthError | null, code: string, detail: string): ProblemException {
    const status = error?.status ?? 0;
    if (!error || status === 0 || status >= 500 || error.name === 'AuthRetryableFetchError')
      return upstreamUnavailable();
    if (status === 429)
      return new ProblemException(429, ErrorCode.RateLimited, 'Too many attempts; retry later.', { retryAfter: 60 });
    return new ProblemException(401, code, detail);
  }
}

function upstreamUnavailable(): ProblemException {
  return new ProblemException(503, ErrorCode.UpstreamUnavailable, 'The authentication service is unavailable; retry.', {
    retryAfter: 5,
  });
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

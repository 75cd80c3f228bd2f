import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { normalizeIp } from './throttler.js';
import { PlansService } from '../plans/plans.service.js';
import { RateLimitService } from './rate-limit.service.js';

/**
 * The `auth` tier: counts FAILED logins per client IP + e-mail. Once the limit is reached, every
 * attempt (even with the right password) is refused until the window ends. Successful logins are
 * not counted and do not reset the window, so one known account cannot be used to keep guessing.
 *
 * In the login handler: `await limiter.assertAllowed(req.ip, email)` before checking the password,
 * and `await limiter.recordFailure(req.ip, email)` when the credentials are wrong.
 */
@Injectable()
export class AuthAttemptLimiter {
  constructor(
    private readonly rateLimit: RateLimitService,
    private readonly plans: PlansService,
  ) {}

  /** Throws a 429 problem (code `rate_limited`, Retry-After) when the IP + e-mail is locked out. */
  async assertAllowed(ip: string, email: string): Promise<void> {
    if (!this.rateLimit.enabled) {
      return;
    }
    // No clinic is known before sign-in: the default plan's numbers apply.
    const tier = (await this.plans.defaultPlan()).tiers.auth;
    const state = await this.rateLimit.peek(this.key(ip, email));
    if (state && state.hits >= tier.limit) {
      throw this.rateLimit.rejection('auth', state, 'Too many failed sign-in attempts; retry later.');
    }
  }

  /** Counts one failed attempt; returns how many attempts are left in the window (undefined: store down, failing open). */
  async recordFailure(ip: string, email: string): Promise<number | undefined> {
    if (!this.rateLimit.enabled) {
      return undefined;
    }
    const tier = (await this.plans.defaultPlan()).tiers.auth;
    const state = await this.rateLimit.hit(this.key(ip, email), tier.windowMs);
    return state ? Math.max(0, tier.limit - state.hits) : undefined;
  }

  private key(ip: string, email: string): string {
    // The e-mail is hashed: keys in Redis must not carry personal data (LGPD).
    const who = createHash('sha256').update(email.trim().toLowerCase()).digest('hex').slice(0, 32);
    return this.rateLimit.key('auth', `${normalizeIp(ip)}:${who}`);
  }
}

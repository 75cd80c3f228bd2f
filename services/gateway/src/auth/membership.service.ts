import { Inject, Injectable } from '@nestjs/common';
import { Database, type Membership } from '@neonpro/database';
import { PolicyRegistry } from '@neonpro/resilience';
import { GATEWAY_CONFIG, type GatewayRuntimeConfig } from '../gateway.config.js';
import { databaseUnavailable } from '../common/upstream-problem.js';
import { POSTGRES_POLICY } from '../resilience/gateway-policies.js';

const MAX_ENTRIES = 10000;

/** Resolves a user's clinic and role from clinic_members, cached briefly per replica. */
@Injectable()
export class MembershipService {
  private readonly cache = new Map<string, { value: Membership | undefined; expires: number }>();

  constructor(
    @Inject(Database) private readonly db: Database,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayRuntimeConfig,
    private readonly policies: PolicyRegistry,
  ) {}

  /** The user's membership when it is cached and current; `undefined` means call `resolve`. */
  cachedMember(userId: string): Membership | undefined {
    const hit = this.cache.get(userId);
    return hit !== undefined && hit.expires > Date.now() ? hit.value : undefined;
  }

  async resolve(userId: string): Promise<Membership | undefined> {
    const now = Date.now();
    const hit = this.cache.get(userId);
    if (hit && hit.expires > now) {
      return hit.value;
    }
    let value: Membership | undefined;
    try {
      value = await this.policies
        .get(POSTGRES_POLICY)
        // As the verified user (RLS shows them their own membership): the service login has no
        // other way in.
        .execute(() => this.db.withUser({ sub: userId }, (r) => r.members.findByUser(userId)), { retry: true });
    } catch (err) {
      throw databaseUnavailable(err) ?? err;
    }
    if (this.config.AUTH_MEMBERSHIP_CACHE_TTL_MS > 0) {
      if (this.cache.size >= MAX_ENTRIES) {
        this.cache.delete(this.cache.keys().next().value!);
      }
      this.cache.set(userId, { value, expires: now + this.config.AUTH_MEMBERSHIP_CACHE_TTL_MS });
    }
    return value;
  }
}

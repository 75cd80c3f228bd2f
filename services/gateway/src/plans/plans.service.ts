import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Subscription } from '@nats-io/transport-node';
import { plansChangedSchema, plansChangedSubject } from '@neonpro/contracts';
import { Database, type PlanColumns } from '@neonpro/database';
import { PolicyRegistry } from '@neonpro/resilience';
import { PinoLogger } from 'nestjs-pino';
import { SingleFlight } from '../common/single-flight.js';
import { GATEWAY_CONFIG, type GatewayRuntimeConfig } from '../gateway.config.js';
import { NatsConnectionService } from '../nats/nats-connection.service.js';
import { POSTGRES_POLICY } from '../resilience/gateway-policies.js';
import { configPlan, type EffectivePlan, fallbackPlan, resolvePlan } from './plan.js';

const DEFAULT_STORED = { clinic_id: 'default', slug: 'default', timezone: 'UTC', plan: null, updated_at: null };

const MAX_ENTRIES = 10000;
const DEFAULT_KEY = 'default';

/**
 * Clinic plans, cached per replica for PLAN_CACHE_TTL_MS (≤ 10 s). The plan CLI broadcasts
 * `plans.changed` over NATS after a change, which drops the cached plan at once on every replica;
 * the TTL bounds how late a replica that missed the broadcast (NATS reconnecting) applies it.
 */
@Injectable()
export class PlansService implements OnApplicationBootstrap {
  private readonly cache = new Map<string, { plan: EffectivePlan; expires: number }>();
  private readonly loading = new SingleFlight<string, EffectivePlan>();
  private readonly fallback: PlanColumns;
  /** Bumped by every invalidation, so a load that started before it is not cached after it. */
  private generation = 0;
  private sub?: Subscription;
  private degraded = false;

  constructor(
    @Inject(Database) private readonly db: Database,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayRuntimeConfig,
    private readonly policies: PolicyRegistry,
    private readonly nats: NatsConnectionService,
    private readonly logger: PinoLogger,
  ) {
    this.fallback = configPlan(config);
  }

  onApplicationBootstrap(): void {
    this.sub = this.nats.connection.subscribe(plansChangedSubject(this.config.NATS_SUBJECT_PREFIX), {
      callback: (err, msg) => {
        if (err) {
          return;
        }
        let parsed;
        try {
          parsed = plansChangedSchema.safeParse(msg.json());
        } catch {
          parsed = undefined;
        }
        if (!parsed?.success) {
          this.logger.warn({ subject: msg.subject }, 'invalid plans.changed message ignored');
          return;
        }
        this.invalidate(parsed.data.clinic_id);
      },
    });
  }

  /** Drops one clinic's cached plan, or every plan (`null`: the default plan changed). */
  invalidate(clinicId: string | null): void {
    this.generation++;
    if (clinicId === null) {
      this.cache.clear();
    } else {
      this.cache.delete(clinicId);
    }
    this.logger.info({ clinic_id: clinicId ?? 'all' }, 'plan cache invalidated');
  }

  /**
   * The default plan over the settings: for limits counted before any clinic is known (failed
   * logins). Cached like a clinic's plan, under a key no clinic id can take.
   */
  async defaultPlan(): Promise<EffectivePlan> {
    return this.forClinic(DEFAULT_KEY);
  }

  /** The clinic's plan when it is cached and current; `undefined` means call `forClinic`. */
  cachedFor(clinicId: string): EffectivePlan | undefined {
    const hit = this.cache.get(clinicId);
    return hit !== undefined && hit.expires > Date.now() ? hit.plan : undefined;
  }

  /** The clinic's effective plan; the gateway's settings when Postgres cannot be read (never blocks traffic). */
  async forClinic(clinicId: string): Promise<EffectivePlan> {
    const hit = this.cache.get(clinicId);
    if (hit && hit.expires > Date.now()) {
      return hit.plan;
    }
    const pending = this.loading.run(clinicId, () => this.load(clinicId, hit?.plan));
    // Expired (not invalidated): answer with it while one refresh runs, so a slow or unreachable
    // Postgres never adds latency to requests. An invalidated plan is gone and is waited for.
    return hit ? hit.plan : pending;
  }

  private async load(clinicId: string, stale: EffectivePlan | undefined): Promise<EffectivePlan> {
    const generation = this.generation;
    try {
      const stored = await this.policies
        .get(POSTGRES_POLICY)
        .execute(
          () =>
            this.db.asPlanReader(async (r) =>
              clinicId === DEFAULT_KEY
                ? { ...DEFAULT_STORED, defaults: (await r.plans.defaults()) ?? this.fallback }
                : r.plans.forClinic(clinicId),
            ),
          { retry: true },
        );
      const plan = resolvePlan(stored, this.fallback);
      if (this.degraded) {
        this.degraded = false;
        this.logger.info('plans readable again');
      }
      if (generation === this.generation && this.config.PLAN_CACHE_TTL_MS > 0) {
        if (this.cache.size >= MAX_ENTRIES) {
          this.cache.delete(this.cache.keys().next().value!);
        }
        this.cache.set(clinicId, { plan, expires: Date.now() + this.config.PLAN_CACHE_TTL_MS });
      }
      return plan;
    } catch (err) {
      if (!this.degraded) {
        this.degraded = true;
        // One line per outage; limits keep applying (last known plan, else the settings).
        this.logger.warn(
          { err_name: err instanceof Error ? err.name : typeof err },
          'plans unreadable; using fallback',
        );
      }
      return stale ?? fallbackPlan(clinicId, this.fallback);
    }
  }
}

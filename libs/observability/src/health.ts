export interface HealthCheckResult {
  ok: boolean;
  details?: Record<string, unknown>;
}

/**
 * A named check shown by `/health/ready`. The replica is ready only when every check that
 * `affectsReadiness` (the default) is ok. Shared dependencies (Postgres, Redis) set it to false:
 * a blip there would make every replica NotReady at once and the ingress would answer 503 for
 * every route; they surface through breakers and metrics instead, and stay visible here.
 */
export interface HealthIndicator {
  readonly name: string;
  readonly affectsReadiness?: boolean;
  check(): HealthCheckResult | Promise<HealthCheckResult>;
}

export const HEALTH_INDICATORS = Symbol('HEALTH_INDICATORS');

/** Holds readiness checks and the shutdown flag, shared by `/health/ready` and SIGTERM. */
export class HealthRegistry {
  private readonly indicators: HealthIndicator[] = [];
  private shuttingDown = false;

  register(indicator: HealthIndicator): void {
    this.indicators.push(indicator);
  }

  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  async readiness(): Promise<{ ready: boolean; checks: Record<string, HealthCheckResult> }> {
    const checks: Record<string, HealthCheckResult> = {};
    const gating = new Set<string>();
    if (this.shuttingDown) {
      checks.shutdown = { ok: false, details: { reason: 'draining' } };
      gating.add('shutdown');
    }
    await Promise.all(
      this.indicators.map(async (i) => {
        if (i.affectsReadiness !== false) {
          gating.add(i.name);
        }
        try {
          checks[i.name] = await i.check();
        } catch (err) {
          checks[i.name] = { ok: false, details: { error: err instanceof Error ? err.name : 'error' } };
        }
      }),
    );
    return { ready: [...gating].every((name) => checks[name]?.ok === true), checks };
  }
}

export interface HealthCheckResult {
  ok: boolean;
  details?: Record<string, unknown>;
}

/** A named readiness check; the service is ready only when every registered check is ok. */
export interface HealthIndicator {
  readonly name: string;
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
    if (this.shuttingDown) checks.shutdown = { ok: false, details: { reason: 'draining' } };
    await Promise.all(
      this.indicators.map(async (i) => {
        try {
          checks[i.name] = await i.check();
        } catch (err) {
          checks[i.name] = { ok: false, details: { error: err instanceof Error ? err.name : 'error' } };
        }
      }),
    );
    return { ready: Object.values(checks).every((c) => c.ok), checks };
  }
}

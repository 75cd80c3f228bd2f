import { connect } from '@nats-io/transport-node';
import { z } from 'zod';
import {
  checkNatsEnv,
  gatewayConfigSchema,
  loadConfig,
  migrateConfigSchema,
  natsConnectionOptions,
  natsEnvShape,
  refuseDevDefaults,
} from '@neonpro/config';
import { type PlansChanged, plansChangedSubject } from '@neonpro/contracts';
import { createRepositories, Database, type PlanColumns, type Repositories } from '@neonpro/database';
import { configPlan, planLimitsJson, resolvePlan } from './plan.js';

const g = gatewayConfigSchema.shape;

/**
 * What the plan CLI reads from the environment: the gateway's own variables (same names and
 * rules), so one env (a gateway pod's) serves both, NATS credentials included. Plans are written
 * by the owner only: the database URL is the migrations' (`DATABASE_MIGRATION_URL`), not the
 * gateway's least-privilege login.
 */
export const planCliConfigSchema = z
  .object({
    ...natsEnvShape,
    NODE_ENV: g.NODE_ENV,
    DATABASE_MIGRATION_URL: migrateConfigSchema.shape.DATABASE_MIGRATION_URL,
    RATE_LIMIT_HEALTHCARE_LIMIT: g.RATE_LIMIT_HEALTHCARE_LIMIT,
    RATE_LIMIT_HEALTHCARE_WINDOW_S: g.RATE_LIMIT_HEALTHCARE_WINDOW_S,
    RATE_LIMIT_AI_LIMIT: g.RATE_LIMIT_AI_LIMIT,
    RATE_LIMIT_AI_WINDOW_S: g.RATE_LIMIT_AI_WINDOW_S,
    RATE_LIMIT_AUTH_LIMIT: g.RATE_LIMIT_AUTH_LIMIT,
    RATE_LIMIT_AUTH_WINDOW_S: g.RATE_LIMIT_AUTH_WINDOW_S,
    RATE_LIMIT_DEFAULT_LIMIT: g.RATE_LIMIT_DEFAULT_LIMIT,
    RATE_LIMIT_DEFAULT_WINDOW_S: g.RATE_LIMIT_DEFAULT_WINDOW_S,
    RATE_LIMIT_AI_CLINIC_LIMIT: g.RATE_LIMIT_AI_CLINIC_LIMIT,
    RATE_LIMIT_AI_CLINIC_WINDOW_S: g.RATE_LIMIT_AI_CLINIC_WINDOW_S,
    PLAN_MONTHLY_AI_TOKENS: g.PLAN_MONTHLY_AI_TOKENS,
  })
  .superRefine((cfg, ctx) => {
    checkNatsEnv(cfg, ctx);
    refuseDevDefaults(cfg, ctx, { databaseUrls: ['DATABASE_MIGRATION_URL'] });
  });
type PlanCliConfig = z.output<typeof planCliConfigSchema>;

/** `--flag N` -> the plan fields it sets (a count and its window). */
// A Map, not an object: an argument such as `toString` must not find Object.prototype's members.
const FLAGS = new Map<string, (n: number) => Partial<PlanColumns>>([
  ['--ai-per-minute', (n) => ({ ai_limit: n, ai_window_s: 60 })],
  ['--ai-clinic-per-minute', (n) => ({ ai_clinic_limit: n, ai_clinic_window_s: 60 })],
  ['--healthcare-per-15m', (n) => ({ healthcare_limit: n, healthcare_window_s: 900 })],
  ['--default-per-15m', (n) => ({ default_limit: n, default_window_s: 900 })],
  ['--auth-per-15m', (n) => ({ auth_limit: n, auth_window_s: 900 })],
  ['--monthly-ai-tokens', (n) => ({ monthly_ai_tokens: n })],
]);

export const PLAN_USAGE = `usage:
  plan show --clinic <slug|id|default>
  plan set  --clinic <slug|id|default> [--ai-per-minute N] [--ai-clinic-per-minute N]
            [--healthcare-per-15m N] [--default-per-15m N] [--auth-per-15m N] [--monthly-ai-tokens N]
  (--monthly-ai-tokens 0 removes the budget; \`--clinic default\` edits the default plan)`;

export class PlanUsageError extends Error {}

export interface PlanCommand {
  action: 'show' | 'set';
  clinic: string;
  patch: Partial<PlanColumns>;
}

export function parsePlanArgs(argv: readonly string[]): PlanCommand {
  const [action, ...rest] = argv;
  if (action !== 'show' && action !== 'set') {
    throw new PlanUsageError('the first argument must be show or set');
  }
  let clinic: string | undefined;
  const patch: Partial<PlanColumns> = {};
  const args = [...rest];
  for (let arg = args.shift(); arg !== undefined; arg = args.shift()) {
    const [flag = arg, inline] = arg.split('=', 2);
    const value = inline ?? args.shift();
    if (value === undefined) {
      throw new PlanUsageError(`${flag} needs a value`);
    }
    if (flag === '--clinic') {
      clinic = value.trim();
      continue;
    }
    const set = FLAGS.get(flag);
    if (!set || action === 'show') {
      throw new PlanUsageError(`unknown option ${flag} for ${action}`);
    }
    const n = Number(value);
    const min = flag === '--monthly-ai-tokens' ? 0 : 1;
    if (
      !/^\d+$/.test(value) ||
      !Number.isSafeInteger(n) ||
      n < min ||
      (flag !== '--monthly-ai-tokens' && n > 2 ** 31 - 1)
    ) {
      throw new PlanUsageError(`${flag} must be an integer >= ${min}`);
    }
    Object.assign(patch, set(n));
  }
  if (!clinic) {
    throw new PlanUsageError('--clinic is required');
  }
  if (action === 'set' && Object.keys(patch).length === 0) {
    throw new PlanUsageError('set needs at least one limit');
  }
  return { action, clinic, patch };
}

export interface PlanCliIo {
  out(text: string): void;
  err(text: string): void;
}

/**
 * `plan show|set`: runs as the database owner (the only role allowed to write plans), prints the
 * resulting plan as JSON and, after a change, broadcasts `plans.changed` so every gateway drops
 * its cached plan at once (a replica that misses it applies the change within PLAN_CACHE_TTL_MS).
 * Returns the exit code.
 */
export async function runPlanCommand(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  io: PlanCliIo,
): Promise<number> {
  let cmd: PlanCommand;
  try {
    cmd = parsePlanArgs(argv);
  } catch (err) {
    if (!(err instanceof PlanUsageError)) {
      throw err;
    }
    io.err(`plan: ${err.message}\n${PLAN_USAGE}`);
    return 64; // EX_USAGE
  }
  const config = loadConfig('plan', planCliConfigSchema, env);
  const db = new Database({ url: config.DATABASE_MIGRATION_URL, poolMax: 1, applicationName: 'neonpro-plan-cli' });
  try {
    const isDefault = cmd.clinic === 'default';
    let clinicId: string | null = null;
    const result = await ownerTx(db, async (r) => {
      const clinic = isDefault ? undefined : await r.plans.findClinic(cmd.clinic);
      clinicId = clinic?.id ?? null;
      if (cmd.action === 'set') {
        await r.plans.set(clinicId, cmd.patch);
      }
      if (!clinic) {
        return { default_plan: (await r.plans.defaults()) ?? {} };
      }
      const stored = await r.plans.forClinic(clinic.id);
      const plan = resolvePlan(stored, configPlan(config));
      return {
        clinic_id: plan.clinic_id,
        slug: stored.slug,
        timezone: plan.timezone,
        custom: plan.custom,
        limits: planLimitsJson(plan),
        monthly_ai_tokens: plan.monthly_ai_tokens,
        // What is stored; null fields inherit from the default plan, then from the gateway settings.
        stored: { clinic: stored.plan, default: stored.defaults },
        updated_at: stored.updated_at,
      };
    });
    if (cmd.action === 'set') {
      await broadcast(config, { clinic_id: clinicId }).then(
        () => io.err('plan: change broadcast to the gateways'),
        (err: unknown) =>
          io.err(
            `plan: saved, but the broadcast failed (${(err as Error).message}); gateways apply it within PLAN_CACHE_TTL_MS`,
          ),
      );
    }
    io.out(JSON.stringify(result, null, 2));
    return 0;
  } catch (err) {
    io.err(`plan: ${(err as Error).message}`);
    return 1;
  } finally {
    await db.close();
  }
}

async function ownerTx<T>(db: Database, fn: (r: Repositories) => Promise<T>): Promise<T> {
  const client = await db.pool.connect();
  try {
    await client.query('begin');
    const out = await fn(createRepositories(client));
    await client.query('commit');
    return out;
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

async function broadcast(config: PlanCliConfig, msg: PlansChanged): Promise<void> {
  // The gateway's connection settings (credentials, TLS), but one short attempt: the TTL covers a miss.
  const nc = await connect({
    ...natsConnectionOptions(config, 'plan-cli'),
    timeout: 3000,
    maxReconnectAttempts: 0,
    waitOnFirstConnect: false,
  });
  try {
    nc.publish(plansChangedSubject(config.NATS_SUBJECT_PREFIX), JSON.stringify(msg));
    await nc.flush();
  } finally {
    await nc.close();
  }
}

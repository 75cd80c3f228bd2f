import { agentConfigSchema, loadConfig, type ModelProvider } from '@neonpro/config';
import type { AgentCallerClaims } from '@neonpro/contracts';
import { Database } from '@neonpro/database';
import { type AuthFixture, createAuthFixture, DEMO_USERS, OpenAiCompatibleTestServer, must } from '@neonpro/testing';
import { PinoLogger } from 'nestjs-pino';
import pg from 'pg';
import { Registry } from 'prom-client';
import { AgentMetrics } from '../src/chat/agent-metrics.service.js';
import { ChatService } from '../src/chat/chat.service.js';
import { RunRegistry } from '../src/chat/run-registry.service.js';
import { createChatModel } from '../src/models/model-factory.js';
import { PostgresClinicData } from '../src/persistence/postgres-clinic-data.js';
import { PostgresConversationStore } from '../src/persistence/postgres-conversation-store.js';
import { addEvalData } from './eval-fixture.js';
import { type CaseResult, type EvalContext, runCase } from './eval-runner.js';
import { loadGoldenSet } from './eval-report.js';

export interface EvalOptions {
  provider: ModelProvider;
  /** Start the scripted loopback OpenAI-compatible server from libs/testing and point the agent at it. */
  loopback?: boolean;
  /** Only cases whose id contains this. */
  only?: string;
  env?: NodeJS.ProcessEnv;
}

const PASS_ENV = /^(OPENAI_|ANTHROPIC_|OLLAMA_|AGENT_MODEL_TIMEOUT_MS|AGENT_MAX_STEPS)/;

/**
 * The golden set through the real agent: a seeded database of its own (plus the eval's data),
 * real callers (tokens from the auth emulator, RLS), the real tools and loop, any provider.
 */
export async function runGoldenSet(opts: EvalOptions): Promise<{ results: CaseResult[]; model: string }> {
  const env: Record<string, string> = { LOG_LEVEL: 'silent', AGENT_MODEL_PROVIDER: opts.provider };
  for (const [k, v] of Object.entries(opts.env ?? process.env)) {
    if (v && PASS_ENV.test(k)) {
      env[k] = v;
    }
  }
  let loopback: OpenAiCompatibleTestServer | undefined;
  if (opts.loopback) {
    loopback = await new OpenAiCompatibleTestServer().start();
    env.OPENAI_BASE_URL = loopback.baseUrl;
    env.OPENAI_MODEL = 'loopback-scripted';
  }
  const parsed = loadConfig('ai-agent', agentConfigSchema, env);
  const config = { ...parsed, instanceId: 'eval' };
  const model = {
    local: 'neonpro-local',
    openai: config.OPENAI_MODEL,
    anthropic: config.ANTHROPIC_MODEL,
    ollama: config.OLLAMA_MODEL,
  }[opts.provider];

  let fx: AuthFixture | undefined;
  let db: Database | undefined;
  let pool: pg.Pool | undefined;
  try {
    fx = await createAuthFixture();
    pool = new pg.Pool({ connectionString: fx.db.url, max: 2 });
    // An idle client dropped by the server (database dropped at teardown) must not crash the run.
    pool.on('error', () => undefined);
    const tz = must(
      (await pool.query<{ timezone: string }>("select timezone from public.clinics where slug = 'aurora'")).rows[0],
      'the aurora clinic',
    ).timezone;
    await addEvalData(pool, tz);
    db = new Database({ url: fx.db.url, poolMax: 4 });
    const callers = {} as Record<'reception' | 'lima' | 'admin', AgentCallerClaims>;
    const emails = {
      reception: DEMO_USERS.auroraReception,
      lima: DEMO_USERS.auroraLima,
      admin: DEMO_USERS.auroraAdmin,
    };
    for (const [who, email] of Object.entries(emails) as ['reception' | 'lima' | 'admin', string][]) {
      const token = await fx.token(email);
      const raw = JSON.parse(
        Buffer.from(must(token.split('.')[1], 'a token payload'), 'base64url').toString('utf8'),
      ) as Record<string, unknown>;
      const m = await pool.query<{ clinic_id: string; role: AgentCallerClaims['role'] }>(
        'select clinic_id, role from public.clinic_members where user_id = $1',
        [raw.sub],
      );
      const member = must(m.rows[0], `the membership of ${who}`);
      callers[who] = { sub: String(raw.sub), email, clinic_id: member.clinic_id, role: member.role, raw };
    }
    const portLog: EvalContext['portLog'] = [];
    const { recordingPort } = await import('./eval-runner.js');
    const port = recordingPort(new PostgresClinicData(db), portLog);
    const service = new ChatService(
      new RunRegistry(),
      new AgentMetrics(new Registry()),
      new PinoLogger({ pinoHttp: { level: 'silent' } }),
      config,
      port,
      new PostgresConversationStore(db),
      createChatModel,
    );
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: tz }).format(new Date());
    const ctx: EvalContext = {
      db: pool,
      service,
      callers,
      clinicId: callers.reception.clinic_id,
      timezone: tz,
      today,
      portLog,
      // The scripted server earns what it earns: it looks the clinic up, then answers generically.
      beforeTurn: loopback
        ? () =>
            loopback?.enqueue(
              { toolCall: { name: 'clinic_info', args: {} } },
              { textChunks: ['Posso ajudar ', 'com a agenda da clínica.'] },
            )
        : undefined,
    };
    const results: CaseResult[] = [];
    for (const file of loadGoldenSet()) {
      for (const c of file.cases) {
        if (opts.only && !c.id.includes(opts.only)) {
          continue;
        }
        results.push(await runCase(ctx, c, file.category));
      }
    }
    return { results, model };
  } finally {
    await db?.close();
    await pool?.end();
    await fx?.close();
    await loopback?.close();
  }
}

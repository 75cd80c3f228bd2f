import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCpf } from '@neonpro/database';
import { DEMO_USERS, must, sqlOnce } from '@neonpro/testing';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { buildOpenApiDocumentOffline } from '../../src/docs/offline-documents.js';
import { type GatewayHarness, startGatewayHarness } from '../support/test-gateway.js';

/**
 * The contract test: calls every operation of the served OpenAPI document, once on its happy
 * path and once on a problem, and validates each response (status, content type, body) against
 * what the document says. The case table must name exactly the document's operations, so a
 * route added without a case here fails this test.
 */

interface OpenApiOperation {
  operationId: string;
  security?: Record<string, string[]>[];
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}
interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
}
interface DocOp {
  path: string;
  method: string;
  op: OpenApiOperation;
}

type User = keyof typeof DEMO_USERS;
interface Req {
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
  /** Caller (default auroraAdmin); null = no Authorization header. */
  as?: User | null;
  token?: string;
  accept?: string;
  /** Reads only the start of a stream, then hands the response to `onStream`. */
  onStream?: (r: Response) => Promise<void>;
}
interface Case {
  happy: () => Req | Promise<Req>;
  problem: () => Req | Promise<Req>;
  /** The status the problem case must get. */
  problemStatus: number;
}

describe('OpenAPI contract: every documented operation, happy path and a problem, validated against the document', () => {
  let h: GatewayHarness;
  let doc: OpenApiDocument;
  const tokens = {} as Record<User, string>;
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
  addFormats.default(ajv);

  // Ids the cases share, filled in beforeAll or by earlier cases (the table runs in order).
  const ids = {
    professional: '',
    patient: '',
    appointment: '',
    consent: '',
    session: randomUUID(),
    message: '',
    refreshToken: '',
    patientCpf: '',
  };

  const sql = <T>(text: string, values: unknown[] = []): Promise<T[]> => sqlOnce<T>(h.auth.db.url, text, values);

  beforeAll(async () => {
    h = await startGatewayHarness('contract', {
      env: {
        DB_POOL_MAX: '4',
        // Limits have their own tests; this one calls everything several times.
        RATE_LIMIT_ENABLED: 'false',
        AGENT_TIMEOUT_MS: '3000',
      },
    });
    doc = (await (await fetch(`${h.base}/docs/openapi.json`)).json()) as OpenApiDocument;
    ajv.addSchema(doc, 'openapi');
    for (const user of Object.keys(DEMO_USERS) as User[]) {
      tokens[user] = await h.auth.token(DEMO_USERS[user]);
    }
    const [lima] = await sql<{ id: string }>(
      "select pr.id from public.professionals pr join public.clinics c on c.id = pr.clinic_id where c.slug = 'aurora' and pr.full_name = 'Dra. Lima'",
    );
    ids.professional = must(lima, 'Dra. Lima').id;
    // A conversation of the admin's, as the agent would have stored it.
    await sql(
      `with s as (
         insert into public.chat_sessions (id, clinic_id, user_id, title)
         select $1, m.clinic_id, m.user_id, 'Agenda de amanhã' from public.clinic_members m
           join auth.users u on u.id = m.user_id where u.email = $2
         returning id, clinic_id, user_id)
       insert into public.chat_messages (clinic_id, session_id, user_id, role, content, client_message_id)
       select clinic_id, id, user_id, 'user', 'quais consultas temos amanhã?', 'c-1' from s`,
      [ids.session, DEMO_USERS.auroraAdmin],
    );
  });

  afterAll(async () => {
    await h?.close();
  });

  const tomorrowAt = (hour: number) => {
    const d = new Date(Date.now() + 86400000 * (30 + Math.floor(Math.random() * 300)));
    d.setUTCHours(hour, 0, 0, 0);
    return d.toISOString();
  };
  const slot = tomorrowAt(13);
  const unknownId = '00000000-0000-4000-8000-000000000000';

  /** Keyed by operationId, in the order they run (later cases use ids made by earlier ones). */
  const cases: Record<string, Case> = {
    login: {
      happy: () => ({ as: null, body: { email: DEMO_USERS.auroraAdmin, password: 'neonpro-demo' } }),
      problem: () => ({ as: null, body: { email: DEMO_USERS.auroraAdmin, password: 'wrong-password' } }),
      problemStatus: 401,
    },
    refreshSession: {
      happy: () => ({ as: null, body: { refresh_token: ids.refreshToken } }),
      problem: () => ({ as: null, body: { refresh_token: 'not-a-refresh-token' } }),
      problemStatus: 401,
    },
    getMe: { happy: () => ({}), problem: () => ({ token: 'not.a.jwt' }), problemStatus: 401 },
    listProfessionals: { happy: () => ({}), problem: () => ({ token: 'not.a.jwt' }), problemStatus: 401 },
    listPatients: {
      happy: () => ({ query: { search: 'maria', limit: '5' } }),
      problem: () => ({ query: { limit: '0' } }),
      problemStatus: 400,
    },
    createPatient: {
      happy: () => {
        ids.patientCpf = makeCpf(String(900_000_000 + Math.floor(Math.random() * 99_999_999)));
        return { body: { full_name: 'Contrato da Silva', cpf: ids.patientCpf, birth_date: '1990-01-31' } };
      },
      problem: () => ({ body: { full_name: 'Contrato Duplicado', cpf: ids.patientCpf } }),
      problemStatus: 409,
    },
    getPatient: {
      happy: () => ({ params: { id: ids.patient } }),
      problem: () => ({ params: { id: unknownId } }),
      problemStatus: 404,
    },
    updatePatient: {
      happy: () => ({ params: { id: ids.patient }, body: { phone: '+55 11 90000-0000' } }),
      problem: () => ({ params: { id: ids.patient }, body: {} }),
      problemStatus: 400,
    },
    listConsents: {
      happy: () => ({ params: { id: ids.patient } }),
      problem: () => ({ params: { id: 'not-a-uuid' } }),
      problemStatus: 400,
    },
    createConsent: {
      happy: () => ({ params: { id: ids.patient }, body: { purpose: 'marketing', legal_basis: 'consent' } }),
      problem: () => ({ params: { id: ids.patient }, body: { purpose: 'marketing', legal_basis: 'because' } }),
      problemStatus: 400,
    },
    revokeConsent: {
      happy: () => ({ params: { id: ids.patient, consentId: ids.consent }, body: { revoked: true } }),
      problem: () => ({ params: { id: ids.patient, consentId: unknownId }, body: { revoked: true } }),
      problemStatus: 404,
    },
    listAppointments: {
      happy: () => ({ query: { professional_id: ids.professional, limit: '3' } }),
      problem: () => ({ query: { from: '2026-12-02T00:00:00Z', to: '2026-12-01T00:00:00Z' } }),
      problemStatus: 400,
    },
    createAppointment: {
      happy: () => ({
        body: {
          patient_id: ids.patient,
          professional_id: ids.professional,
          starts_at: slot,
          duration_minutes: 30,
          procedure: 'Botox',
          idempotency_key: `contract-${randomUUID()}`,
        },
      }),
      problem: () => ({
        body: {
          patient_id: ids.patient,
          professional_id: ids.professional,
          starts_at: slot,
          duration_minutes: 30,
          procedure: 'Peeling',
        },
      }),
      problemStatus: 409,
    },
    getAppointment: {
      happy: () => ({ params: { id: ids.appointment } }),
      problem: () => ({ params: { id: unknownId } }),
      problemStatus: 404,
    },
    updateAppointment: {
      happy: () => ({ params: { id: ids.appointment }, body: { status: 'confirmed' } }),
      problem: () => ({ params: { id: ids.appointment }, body: { status: 'maybe' } }),
      problemStatus: 400,
    },
    exportPatient: {
      happy: () => ({ params: { id: ids.patient } }),
      problem: () => ({ params: { id: ids.patient }, as: 'auroraReception' }),
      problemStatus: 403,
    },
    erasePatient: {
      happy: () => ({ params: { id: ids.patient } }),
      problem: () => ({ params: { id: ids.patient }, as: 'auroraReception' }),
      problemStatus: 403,
    },
    listAuditEntries: {
      happy: () => ({ query: { limit: '5' } }),
      problem: () => ({ as: 'auroraReception' }),
      problemStatus: 403,
    },
    getClinicPlan: {
      happy: () => ({}),
      problem: () => ({ as: 'auroraReception' }),
      problemStatus: 403,
    },
    getClinicUsage: {
      happy: () => ({ query: { granularity: 'week', from: '2026-01-05', to: '2026-03-01' } }),
      problem: () => ({ query: { granularity: 'hour' } }),
      problemStatus: 400,
    },
    chat: {
      happy: () => ({ body: { message: 'quais consultas temos amanhã?', client_message_id: 'contract-1' } }),
      problem: () => ({ body: { message: '   ' } }),
      problemStatus: 400,
    },
    resumeChatEvents: {
      // The turn answered above, replayed from its first event (it has finished: the replay ends with done).
      happy: () => ({ params: { message_id: ids.message }, query: { after: '0' }, accept: 'text/event-stream' }),
      problem: () => ({ params: { message_id: ids.message }, as: 'auroraLima', accept: 'text/event-stream' }),
      problemStatus: 404,
    },
    cancelChatMessage: {
      happy: async () => {
        // A run that is still going: the agent answers one token and then stays silent.
        h.agent.behaviour = () => 'stall-after-first';
        const controller = new AbortController();
        const running = await fetch(`${h.base}/v1/ai/chat`, {
          method: 'POST',
          signal: controller.signal,
          headers: {
            authorization: `Bearer ${tokens.auroraAdmin}`,
            'content-type': 'application/json',
            accept: 'text/event-stream',
          },
          body: JSON.stringify({ message: 'uma resposta longa', client_message_id: 'contract-cancel' }),
        });
        expect(running.status).toBe(200);
        const reader = running.body!.getReader();
        await reader.read();
        afterCase.push(() => controller.abort());
        return { params: { message_id: running.headers.get('x-message-id')! } };
      },
      problem: () => ({ params: { message_id: unknownId } }),
      problemStatus: 404,
    },
    listChatSessions: {
      happy: () => ({ query: { limit: '10' } }),
      problem: () => ({ query: { limit: 'many' } }),
      problemStatus: 400,
    },
    listChatMessages: {
      happy: () => ({ params: { id: ids.session } }),
      problem: () => ({ params: { id: ids.session }, as: 'auroraLima' }),
      problemStatus: 404,
    },
    deleteChatSession: {
      happy: () => ({ params: { id: ids.session } }),
      problem: () => ({ params: { id: 'not-a-uuid' } }),
      problemStatus: 400,
    },
  };
  const afterCase: (() => void)[] = [];

  /** What the happy responses leave for later cases. */
  function remember(operationId: string, body: Record<string, unknown>): void {
    if (operationId === 'login') {
      ids.refreshToken = body.refresh_token as string;
    }
    if (operationId === 'chat') {
      ids.message = body.message_id as string;
    }
    if (operationId === 'createPatient') {
      ids.patient = body.id as string;
    }
    if (operationId === 'createConsent') {
      ids.consent = body.id as string;
    }
    if (operationId === 'createAppointment') {
      ids.appointment = body.id as string;
    }
  }

  function operations(): DocOp[] {
    return Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, op]) => ({ path, method, op })),
    );
  }

  async function send(d: DocOp, req: Req): Promise<Response> {
    const path = d.path.replace(/\{([^}]+)\}/g, (_m, name: string) => encodeURIComponent(req.params?.[name] ?? ''));
    const qs = req.query ? `?${new URLSearchParams(req.query).toString()}` : '';
    const headers: Record<string, string> = { accept: req.accept ?? 'application/json' };
    const as = req.as === undefined ? 'auroraAdmin' : req.as;
    const token = req.token ?? (as ? tokens[as] : undefined);
    if (token) {
      headers.authorization = `Bearer ${token}`;
    }
    if (req.body !== undefined) {
      headers['content-type'] = 'application/json';
    }
    return fetch(`${h.base}${path}${qs}`, {
      method: d.method.toUpperCase(),
      headers,
      body: req.body === undefined ? undefined : JSON.stringify(req.body),
    });
  }

  /** Status documented, content type documented, body valid against the documented schema. */
  async function expectDocumented(d: DocOp, r: Response): Promise<Record<string, unknown>> {
    const where = `${d.op.operationId} → ${r.status}`;
    const response = d.op.responses[String(r.status)];
    expect({ where, documented: response !== undefined }).toEqual({ where, documented: true });
    const text = await r.text();
    const content = must(response, `a documented ${where}`).content;
    if (!content) {
      expect({ where, body: text }).toEqual({ where, body: '' });
      return {};
    }
    const type = must((r.headers.get('content-type') ?? '').split(';')[0], 'the media type').trim();
    expect({ where, type, documented: type in content }).toEqual({ where, type, documented: true });
    if (type === 'text/event-stream') {
      return {};
    }
    const body = JSON.parse(text) as Record<string, unknown>;
    const pointer = ['paths', d.path, d.method, 'responses', String(r.status), 'content', type, 'schema']
      .map((p) => p.replaceAll('~', '~0').replaceAll('/', '~1'))
      .join('/');
    const validate = ajv.getSchema(`openapi#/${pointer}`);
    expect(validate).toBeDefined();
    const ok = validate!(body);
    expect({ where, body, errors: ok ? null : validate!.errors }).toEqual({ where, body, errors: null });
    return body;
  }

  it('the served document passes Redocly lint (recommended rules + redocly.yaml): no error, no warning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'openapi-'));
    try {
      const file = join(dir, 'openapi.json');
      writeFileSync(file, JSON.stringify(doc));
      // The CLI reads redocly.yaml from the repository root (the working directory of npm test).
      const r = spawnSync(process.execPath, ['node_modules/@redocly/cli/bin/cli.js', 'lint', file, '--format=json'], {
        encoding: 'utf8',
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
      });
      const report = JSON.parse(r.stdout) as {
        totals: { errors: number; warnings: number };
        problems: { ruleId: string; message: string }[];
      };
      expect(report.problems.map((p) => `${p.ruleId}: ${p.message}`)).toEqual([]);
      expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serves the document the client is generated from (the offline build of the same routes)', async () => {
    expect(doc).toEqual(JSON.parse(JSON.stringify(await buildOpenApiDocumentOffline())));
  });

  it('has a case for every documented operation, and an operation for every case', () => {
    const documented = operations().map((d) => d.op.operationId);
    expect([...documented].sort()).toEqual(Object.keys(cases).sort());
  });

  it('every operation answers as documented, on its happy path and on a problem', async () => {
    const byId = new Map(operations().map((d) => [d.op.operationId, d]));
    for (const [operationId, c] of Object.entries(cases)) {
      const d = byId.get(operationId);
      if (!d) {
        continue;
      } // reported by the test above
      h.agent.behaviour = (req) => [
        { type: 'token', delta: 'Amanhã há ' },
        { type: 'done', message_id: req.message_id, content: 'Amanhã há 2 consultas.' },
      ];
      const happy = await send(d, await c.happy());
      expect({ operationId, status: happy.status, ok: happy.ok }).toEqual({
        operationId,
        status: happy.status,
        ok: true,
      });
      remember(operationId, await expectDocumented(d, happy));
      for (const f of afterCase.splice(0)) {
        f();
      }

      const problem = await send(d, await c.problem());
      expect({ operationId, status: problem.status }).toEqual({ operationId, status: c.problemStatus });
      expect(problem.headers.get('content-type')).toContain('application/problem+json');
      await expectDocumented(d, problem);
    }
  });

  it('protected operations answer 401 without a token; public ones do not need one', async () => {
    for (const d of operations()) {
      const secured = (d.op.security ?? []).length > 0;
      const r = await send(d, { as: null, params: { id: unknownId, consentId: unknownId, message_id: unknownId } });
      if (secured) {
        expect({ op: d.op.operationId, status: r.status }).toEqual({ op: d.op.operationId, status: 401 });
        const body = await expectDocumented(d, r);
        expect(body.code).toBe('unauthorized');
      } else {
        // Public operations were called without a token on their happy path above; here they
        // must not ask for one either (their bodies are missing, so they fail validation instead).
        expect({ op: d.op.operationId, status: r.status }).toEqual({ op: d.op.operationId, status: 400 });
        await expectDocumented(d, r);
      }
    }
  });
});

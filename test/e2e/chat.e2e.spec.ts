import { randomUUID } from 'node:crypto';
import pg from 'pg';
import {
  type AuthFixture,
  createAuthFixture,
  DEMO_USERS,
  freePort,
  NATS_URL,
  type ServiceProcess,
  spawnService,
  uniquePrefix,
  waitFor,
  must,
  deletePrefixStreams,
} from '@neonpro/testing';

const TZ = 'America/Sao_Paulo';

/**
 * Boots the built gateway and two built agent replicas (their real main.ts: Postgres adapters)
 * as processes on a seeded database with the auth emulator, and talks to them only through the
 * gateway's HTTP API with real tokens.
 */
describe('E2E: gateway → NATS → two ai-agent replicas → Postgres (built processes)', () => {
  const prefix = uniquePrefix('e2e-chat');
  let gateway: ServiceProcess;
  let agents: ServiceProcess[];
  let fx: AuthFixture;
  let admin: string;
  let lima: string;

  beforeAll(async () => {
    fx = await createAuthFixture();
    const common = { ...fx.env, NATS_URL, NATS_SUBJECT_PREFIX: prefix };
    agents = await Promise.all(
      ['a', 'b'].map(async (id) =>
        spawnService('ai-agent', await freePort(), {
          ...common,
          AGENT_INSTANCE_ID: `e2e-${id}`,
          AGENT_TOKEN_DELAY_MS: '20',
          DB_POOL_MAX: '4',
        }),
      ),
    );
    // This suite sends more than the ai tier's 20/min; limits have their own tests.
    gateway = spawnService('gateway', await freePort(), {
      ...common,
      SHUTDOWN_TIMEOUT_MS: '10000',
      RATE_LIMIT_AI_LIMIT: '1000',
    });
    await Promise.all([gateway, ...agents].map((p) => p.waitReady()));
    [admin, lima] = await Promise.all([fx.token(DEMO_USERS.auroraAdmin), fx.token(DEMO_USERS.auroraLima)]);
  });

  afterAll(async () => {
    await Promise.all([gateway, ...(agents ?? [])].filter(Boolean).map((p) => p.stop('SIGKILL')));
    await deletePrefixStreams(prefix);
    await fx?.close();
  });

  async function sql<T>(text: string, values: unknown[] = []): Promise<T[]> {
    const c = new pg.Client({ connectionString: fx.db.url });
    await c.connect();
    try {
      return (await c.query(text, values)).rows as T[];
    } finally {
      await c.end();
    }
  }
  async function sqlOne<T>(text: string, values: unknown[] = []): Promise<T> {
    return must((await sql<T>(text, values))[0], `a row of: ${text}`);
  }

  const chat = (
    body: Record<string, unknown>,
    opts: { token?: string; accept?: string; headers?: Record<string, string> } = {},
  ) =>
    fetch(`${gateway.url}/v1/ai/chat`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: opts.accept ?? 'application/json',
        ...(opts.token === '' ? {} : { authorization: `Bearer ${opts.token ?? admin}` }),
        ...opts.headers,
      },
      body: JSON.stringify(body),
    });

  const api = (method: string, path: string, token = admin) =>
    fetch(`${gateway.url}${path}`, { method, headers: { authorization: `Bearer ${token}` } });

  it('refuses a chat without a token: 401 problem', async () => {
    const r = await chat({ message: 'Olá, quais consultas temos hoje?' }, { token: '' });
    expect(r.status).toBe(401);
    expect(r.headers.get('content-type')).toContain('application/problem+json');
    expect(await r.json()).toMatchObject({ code: 'unauthorized' });
  });

  it('answers "quais consultas a Dra. Lima tem amanhã?" from the database, as JSON and as SSE', async () => {
    const expected = await sql<{ name: string; start: string }>(
      `select p.full_name as name, to_char(a.starts_at at time zone $1, 'HH24:MI') as start
         from public.appointments a join public.patients p on p.id = a.patient_id
         join public.professionals pr on pr.id = a.professional_id
        where pr.full_name = 'Dra. Lima' and (a.starts_at at time zone $1)::date = (now() at time zone $1)::date + 1
        order by a.starts_at`,
      [TZ],
    );
    const r = await chat({ message: 'quais consultas a Dra. Lima tem amanhã?' });
    expect(r.status).toBe(200);
    const body = (await r.json()) as { content: string; message_id: string; session_id: string };
    expect(body.content).toContain(`Dra. Lima tem ${expected.length} consulta`);
    for (const e of expected) {
      expect(body.content).toContain(`${e.start}–`);
    }
    for (const e of expected) {
      expect(body.content).toContain(e.name);
    }

    const sse = await chat({ message: 'quais consultas a Dra. Lima tem amanhã?' }, { accept: 'text/event-stream' });
    expect(sse.headers.get('content-type')).toContain('text/event-stream');
    const events = parseSse(await sse.text());
    expect(events.filter((e) => e.event === 'tool').map((e) => e.data.status)).toEqual(['started', 'succeeded']);
    const done = events.at(-1);
    expect(done?.event).toBe('done');
    const tokens = events.filter((e) => e.event === 'token').map((e) => e.data.delta as string);
    expect(tokens.length).toBeGreaterThan(3);
    expect(tokens.join('')).toBe(done?.data.content);
    expect(done?.data.content).toBe(body.content);
  });

  it('books through the gateway only after confirmation, once, even when the client retries', async () => {
    const patient = await sqlOne<{ id: string; full_name: string }>(
      `select p.id, p.full_name from public.patients p join public.clinics c on c.id = p.clinic_id
        where c.slug = 'aurora' and (select count(*) from public.patients q where q.full_name = p.full_name) = 1
        order by p.full_name desc limit 1`,
    );
    const session_id = randomUUID();
    const proposal = await chat({
      session_id,
      message: `marque microagulhamento para ${patient.full_name} com a Dra. Lima amanhã às 18h`,
      client_message_id: 'e2e-book-1',
    });
    const proposed = (await proposal.json()) as { content: string; proposal?: { summary: string; action: string } };
    expect(proposed.content).toContain('Confirma?');
    // The server's own rendering of what will be written, beside the model's text.
    expect(proposed.proposal?.action).toBe('book');
    expect(proposed.proposal?.summary).toContain(patient.full_name);
    expect(proposed.proposal?.summary).toContain('18:00');
    const count = async () =>
      Number(
        must(
          (
            await sql<{ n: string }>(
              'select count(*) as n from public.appointments where patient_id = $1 and starts_at > now() and procedure = $2',
              [patient.id, 'Microagulhamento'],
            )
          )[0],
          'a count',
        ).n,
      );
    const before = await count();
    const answers = await Promise.all(
      [1, 2].map(async () => {
        const r = await chat({ session_id, message: 'sim', client_message_id: 'e2e-confirm-1' });
        return ((await r.json()) as { content: string }).content;
      }),
    );
    expect(answers[0]).toContain(`Agendei Microagulhamento para ${patient.full_name}`);
    expect(answers[1]).toBe(answers[0]);
    expect(await count()).toBe(before + 1);
  });

  it('lists, reads and deletes the caller’s sessions; other users get 404', async () => {
    const session_id = randomUUID();
    const r = await chat({ session_id, message: 'oi', client_message_id: 'sess-1' });
    expect(r.status).toBe(200);
    const list = (await (await api('GET', '/v1/ai/sessions?limit=100')).json()) as {
      data: { id: string }[];
      next_cursor: string | null;
    };
    expect(list.data.map((s) => s.id)).toContain(session_id);
    const msgs = (await (await api('GET', `/v1/ai/sessions/${session_id}/messages`)).json()) as {
      data: { role: string; content: string; client_message_id: string }[];
    };
    expect(msgs.data.map((m) => [m.role, m.client_message_id])).toEqual([
      ['user', 'sess-1'],
      ['assistant', 'sess-1'],
    ]);
    expect(must(msgs.data[0], 'a listed item').content).toBe('oi');
    // Another user of the same clinic: not theirs, so it does not exist.
    expect((await api('GET', `/v1/ai/sessions/${session_id}/messages`, lima)).status).toBe(404);
    expect((await api('DELETE', `/v1/ai/sessions/${session_id}`, lima)).status).toBe(404);
    const limaList = (await (await api('GET', '/v1/ai/sessions', lima)).json()) as { data: { id: string }[] };
    expect(limaList.data.map((s) => s.id)).not.toContain(session_id);
    expect((await api('GET', '/v1/ai/sessions/not-a-uuid/messages')).status).toBe(400);
    expect((await api('DELETE', `/v1/ai/sessions/${session_id}`)).status).toBe(204);
    expect((await api('GET', `/v1/ai/sessions/${session_id}/messages`)).status).toBe(404);
  });

  it('cancels the caller’s running message (not someone else’s) and the stream ends cancelled', async () => {
    const r = await chat({ message: 'oi, o que você sabe fazer?' }, { accept: 'text/event-stream' });
    const messageId = r.headers.get('x-message-id') ?? '';
    expect(messageId).toMatch(/^[0-9a-f-]{36}$/);
    const reader = r.body!.getReader();
    const decoder = new TextDecoder();
    let text = decoder.decode((await reader.read()).value);
    expect((await api('POST', `/v1/ai/chat/${messageId}/cancel`, lima)).status).toBe(404);
    const cancel = await api('POST', `/v1/ai/chat/${messageId}/cancel`);
    expect(cancel.status).toBe(202);
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        break;
      }
      text += decoder.decode(value);
    }
    expect(text).toMatch(/event: error\ndata: \{"code":"cancelled"/);
    expect(text).not.toContain('event: done');
    expect((await api('POST', `/v1/ai/chat/${messageId}/cancel`)).status).toBe(404);
  });

  it('shares the work between both replicas and logs the gateway request id in the agent', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `e2e-req-${i}-${randomUUID().slice(0, 8)}`);
    const results = await Promise.all(ids.map((id) => chat({ message: 'oi' }, { headers: { 'x-request-id': id } })));
    expect(results.map((r) => r.status)).toEqual(ids.map(() => 200));
    // The client's id travels beside the gateway's own (which keys logs and audit rows).
    const servedBy = () =>
      agents.map((a) => ids.filter((id) => a.logs().some((l) => l.client_request_id === id)).length);
    // An agent logs "run completed" just after its last reply, so wait for the lines to land.
    await waitFor(() => servedBy().reduce((x, y) => x + y, 0) === 20, 'agent logs for every request');
    const served = servedBy();
    expect(served[0]).toBeGreaterThan(0);
    expect(served[1]).toBeGreaterThan(0);
  });

  it('never writes the chat text or patient data to any log', async () => {
    const p = await sqlOne<{ full_name: string; cpf: string; phone: string }>(
      `select p.full_name, p.cpf, p.phone from public.patients p join public.clinics c on c.id = p.clinic_id
        where c.slug = 'aurora' and p.phone is not null order by p.full_name limit 1`,
    );
    const r = await chat({ message: `dados do paciente com CPF ${p.cpf}` });
    expect(((await r.json()) as { content: string }).content).toContain(p.full_name);
    await chat({ message: `consultas de ${p.full_name} esta semana` });
    for (const proc of [gateway, ...agents]) {
      const out = proc.output.join('');
      expect(out).not.toContain(p.full_name);
      expect(out).not.toContain(p.cpf);
      expect(out).not.toContain(p.phone);
      expect(out).not.toContain('dados do paciente');
    }
  });

  it('agents finish in-flight runs on SIGTERM, then exit 0; the gateway exits 0', async () => {
    const runs = Array.from({ length: 4 }, () => chat({ message: 'uma resposta longa, por favor' }));
    // Stop one replica only once every run is in flight (the queue group spread them).
    const inflight = async (p: ServiceProcess) =>
      Number(/^agent_inflight(?:\{[^}]*\})? (\d+)/m.exec(await (await fetch(`${p.url}/metrics`)).text())?.[1] ?? 0);
    await waitFor(
      async () => (await Promise.all(agents.map(inflight))).reduce((a, b) => a + b, 0) === 4,
      'all four runs in flight',
    );
    const exit = must(agents[0], 'agents[0]').stop('SIGTERM');
    const results = await Promise.all(runs);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(await exit).toBe(0);
    expect(await gateway.stop('SIGTERM')).toBe(0);
  });
});

function parseSse(text: string): { event: string; data: Record<string, unknown> }[] {
  return text
    .split('\n\n')
    .filter((b) => b.trim())
    .map((block) => {
      const lines = block.split('\n');
      const event = lines.find((l) => l.startsWith('event: '))?.slice(7) ?? '';
      const data = lines.find((l) => l.startsWith('data: '))?.slice(6) ?? '{}';
      return { event, data: JSON.parse(data) as Record<string, unknown> };
    });
}

import { OpenAiCompatibleTestServer } from '@neonpro/testing';
import { ask, makeHarness } from './support/chat-harness.js';
import { buildFixture, claimsFor } from './support/clinic-fixtures.js';
import { InMemoryClinicData } from './support/in-memory-clinic-data.js';
import { InMemoryConversations } from './support/in-memory-conversations.js';

describe('openai provider against a loopback OpenAI-compatible server', () => {
  const fixture = buildFixture();
  const caller = claimsFor(fixture.ids.aurora);
  let server: OpenAiCompatibleTestServer;

  beforeEach(async () => {
    server = await new OpenAiCompatibleTestServer().start();
  });
  afterEach(async () => server.close());

  /** The conversation store of the last harness (usage rows land there). */
  let store: InMemoryConversations;
  const harness = (extra: Record<string, string> = {}) =>
    makeHarness(new InMemoryClinicData([fixture.aurora, fixture.beta]), (store = new InMemoryConversations()), {
      AGENT_MODEL_PROVIDER: 'openai',
      OPENAI_BASE_URL: server.baseUrl,
      OPENAI_MODEL: 'test-model',
      ...extra,
    });

  it('streams, runs tool calls, and never sends CPF, phone or patient names to the provider', async () => {
    const h = harness();
    server.enqueue(
      { toolCall: { name: 'search_patients', args: { query: '[CPF_1]' } } },
      { textChunks: ['A paciente [PACI', 'ENTE_1] (CPF [CPF_1]) tem telefone [TELE', 'FONE_1].'] },
    );
    const turn = await ask(h, caller, 'Qual o telefone da paciente com CPF 529.982.247-25?');
    expect(turn.error).toBeUndefined();
    expect(turn.tools).toEqual(['search_patients']);
    expect(turn.content).toBe('A paciente Maria José Conceição (CPF 529.982.247-25) tem telefone +55 11 98765-4321.');
    expect(turn.events.filter((e) => e.type === 'token').length).toBeGreaterThan(1);
    expect(server.requests).toHaveLength(2);
    const sent = server.requests.join('\n');
    for (const secret of [
      '529.982.247-25',
      '52998224725',
      'Maria',
      'Conceição',
      'Concei\\u00e7\\u00e3o',
      '98765-4321',
      'maria.conceicao',
    ]) {
      expect(sent).not.toContain(secret);
    }
    expect(sent).toContain('[CPF_1]');
    expect(server.requests[1]).toContain('[PACIENTE_1]');
    const metrics = await h.registry.metrics();
    expect(metrics).toMatch(/agent_model_tokens_total\{provider="openai",kind="input"\} 200/);
    // The run's usage row carries the provider's own numbers (2 calls of 100 + 10), with the turn.
    expect(store.usage).toEqual([
      expect.objectContaining({
        clinic_id: caller.clinic_id,
        user_id: caller.sub,
        provider: 'openai',
        model: 'test-model',
        input_tokens: 200,
        output_tokens: 20,
        tokens_reported: true,
        tool_calls: 1,
        outcome: 'ok',
      }),
    ]);
    expect(metrics).toMatch(/agent_usage_tokens_total\{provider="openai",direction="output"\} 20/);
  });

  it('429 and 5xx trip the breaker and fall back to the next provider', async () => {
    const h = harness({
      AGENT_MODEL_FALLBACKS: 'local',
      AGENT_BREAKER_THRESHOLD: '2',
      AGENT_BREAKER_COOLDOWN_MS: '600000',
    });
    server.enqueue({ status: 429 }, { status: 503 });
    const first = await ask(h, caller, 'quais consultas a Dra. Lima tem amanhã?');
    expect(first.content).toContain('Fernanda Lima tem 2 consultas amanhã');
    const second = await ask(h, caller, 'quais profissionais atendem na clínica?');
    expect(second.content).toContain('Clínica Aurora');
    // First turn: one 429 then the local model; second turn: one 503 opens the breaker (2 in a row).
    expect(server.requests).toHaveLength(2);
    const third = await ask(h, caller, 'Hello!');
    expect(third.content).toContain('Hello! I am the clinic assistant');
    // Breaker open: the provider is skipped entirely.
    expect(server.requests).toHaveLength(2);
    const metrics = await h.registry.metrics();
    expect(metrics).toMatch(/agent_model_fallbacks_total\{provider="openai",reason="breaker_open"\} [1-9]/);
    expect(metrics).toMatch(/agent_run_duration_seconds_count\{provider="local",outcome="ok"\} 3/);
  });

  it('a cancelled run stops the model call and the loop', async () => {
    const h = harness();
    server.enqueue({ textChunks: Array.from({ length: 5 }, () => 'x ') });
    const messageId = crypto.randomUUID();
    const controller = h.service.stream(
      { session_id: crypto.randomUUID(), message_id: messageId, message: 'oi' },
      caller,
    );
    const events: string[] = [];
    await new Promise<void>((resolve) => {
      const sub = controller.subscribe({
        next: (e) => events.push(e.type === 'error' ? e.code : e.type),
        complete: resolve,
      });
      // Cancel as soon as the run is registered (before the model answered).
      expect(h.runs.size).toBe(1);
      expect(sub.closed).toBe(false);
      for (const id of [...(h.runs as unknown as { runs: Map<string, AbortController> }).runs.keys()]) {
        h.runs.cancel(id);
      }
    });
    expect(events).toEqual(['cancelled']);
    // Cancelled before any model answered: nothing was consumed, nothing is billed.
    expect(store.usage).toEqual([]);
  });
});

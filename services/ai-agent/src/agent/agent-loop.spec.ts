import { AIMessageChunk, type BaseMessage, HumanMessage, ToolMessage } from '@langchain/core/messages';
import { FakeListChatModel, FakeStreamingChatModel } from '@langchain/core/utils/testing';
import { BoundModelRunner } from '../models/model-runners.js';
import { ClinicToolbox, newToolRunContext } from '../tools/clinic-tools.js';
import { ToolCache } from '../tools/tool-cache.js';
import { buildFixture, claimsFor } from '../../test/support/clinic-fixtures.js';
import { InMemoryClinicData } from '../../test/support/in-memory-clinic-data.js';
import { type ModelTurnRunner, runAgentLoop } from './agent-loop.js';
import { must } from '@neonpro/testing';

const toolCallChunk = (name: string, args: Record<string, unknown>) =>
  new AIMessageChunk({ content: '', tool_calls: [{ id: `call_${name}`, name, args, type: 'tool_call' }] });

/** Plays one fake model per step, as a hosted model would answer turn after turn. */
class StepRunner implements ModelTurnRunner {
  readonly provider = 'fake';
  private step = 0;
  constructor(private readonly steps: ModelTurnRunner[]) {}
  stream(messages: BaseMessage[], signal: AbortSignal): AsyncIterable<AIMessageChunk> {
    const runner = must(this.steps[Math.min(this.step++, this.steps.length - 1)], 'a scripted step');
    return runner.stream(messages, signal);
  }
}

describe('agent loop driven by @langchain/core fake models', () => {
  const fixture = buildFixture();
  const port = new InMemoryClinicData([fixture.aurora, fixture.beta]);
  const toolbox = new ClinicToolbox(port, { cache: new ToolCache(1000, 10) });

  async function run(
    clinicId: string,
    steps: (tools: ReturnType<ClinicToolbox['tools']>) => ModelTurnRunner[],
    maxSteps = 4,
  ) {
    const ctx = newToolRunContext({ caller: claimsFor(clinicId), sessionId: 's', userMessage: 'x' });
    const tools = toolbox.tools(ctx);
    const messages: BaseMessage[] = [new HumanMessage('x')];
    const events: string[] = [];
    const result = await runAgentLoop({
      runner: new StepRunner(steps(tools)),
      tools,
      messages,
      maxSteps,
      signal: new AbortController().signal,
      exhaustedText: ' [limite]',
      hooks: { onToken: () => undefined, onTool: (name, status) => events.push(`${name}:${status}`) },
    });
    return {
      result,
      events,
      toolOutputs: messages
        .filter((m) => m instanceof ToolMessage)
        .map((m) => (typeof m.content === 'string' ? m.content : '')),
    };
  }

  it('executes the tool calls, feeds ToolMessages back and streams the final answer', async () => {
    const { result, events, toolOutputs } = await run(fixture.ids.aurora, (tools) => [
      new BoundModelRunner(
        'fake',
        new FakeStreamingChatModel({ chunks: [toolCallChunk('search_patients', { query: 'joao' })] }),
        tools,
      ),
      new BoundModelRunner('fake', new FakeListChatModel({ responses: ['Encontrei o João.'] }), tools),
    ]);
    expect(events).toEqual(['search_patients:started', 'search_patients:succeeded']);
    expect(toolOutputs[0]).toContain('João Pedro Ribeiro');
    expect(result).toMatchObject({ content: 'Encontrei o João.', steps: 2, exhausted: false });
  });

  // Clinic isolation is enforced by Postgres RLS and asserted there: test/agent-postgres.int.spec.ts.

  it('bounds the steps, and invalid tool arguments fail the tool without ending the run', async () => {
    const { result, events } = await run(
      fixture.ids.aurora,
      (tools) => [
        new BoundModelRunner(
          'fake',
          new FakeStreamingChatModel({ chunks: [toolCallChunk('get_patient_summary', { patient_id: 'not-a-uuid' })] }),
          tools,
        ),
      ],
      3,
    );
    expect(result).toMatchObject({ exhausted: true, steps: 3, content: ' [limite]' });
    expect(events.filter((e) => e.endsWith(':failed'))).toHaveLength(3);
  });

  it('refuses to book with a made-up proposal or without the user saying yes', async () => {
    const ctx = newToolRunContext({ caller: claimsFor(fixture.ids.aurora), sessionId: 's', userMessage: 'talvez' });
    const book = toolbox.tools(ctx).find((t) => t.name === 'book_appointment')!;
    expect(JSON.parse(String(await book.invoke({ proposal_id: 'p-123' })))).toEqual({
      status: 'refused',
      reason: 'no_pending_proposal',
    });
    expect(port.calls).not.toContain('bookAppointment');
  });
});

import { AIMessageChunk, type BaseMessage, ToolMessage } from '@langchain/core/messages';
import type { StructuredToolInterface } from '@langchain/core/tools';
import { CHARS_PER_TOKEN } from '../conversation/conversation-store.port.js';

/** Something that streams one model turn for a list of messages (tools already bound). */
export interface ModelTurnRunner {
  /** Provider label of the model that actually answered the last turn (for metrics). */
  readonly provider: string;
  stream(messages: BaseMessage[], signal: AbortSignal): AsyncIterable<AIMessageChunk>;
}

export interface AgentLoopHooks {
  onToken(delta: string): void;
  onTool(name: string, status: 'started' | 'succeeded' | 'failed'): void;
  /** `reported`: the provider gave the counts (else they are the ≈4 chars/token estimate). */
  onUsage?(usage: { input: number; output: number; provider: string; reported: boolean }): void;
}

export interface AgentLoopResult {
  content: string;
  steps: number;
  /** True when the step bound was reached before the model produced a final answer. */
  exhausted: boolean;
}

/**
 * The tool-calling loop: ask the model, run the tools it calls, feed their results back as
 * ToolMessages, repeat until it answers without tool calls or `maxSteps` model calls were made.
 * Text tokens are streamed as they come; the final content is exactly what was streamed.
 */
export async function runAgentLoop(params: {
  runner: ModelTurnRunner;
  tools: readonly StructuredToolInterface[];
  messages: BaseMessage[];
  maxSteps: number;
  signal: AbortSignal;
  hooks: AgentLoopHooks;
  /** Text streamed when the step bound is hit (in the user's language). */
  exhaustedText: string;
}): Promise<AgentLoopResult> {
  const { runner, tools, messages, signal, hooks } = params;
  const byName = new Map(tools.map((t) => [t.name, t]));
  let content = '';
  const emit = (delta: string): void => {
    if (!delta) {
      return;
    }
    content += delta;
    hooks.onToken(delta);
  };

  for (let step = 1; step <= params.maxSteps; step++) {
    signal.throwIfAborted();
    let turn: AIMessageChunk | undefined;
    for await (const chunk of runner.stream(messages, signal)) {
      signal.throwIfAborted();
      emit(typeof chunk.content === 'string' ? chunk.content : textOf(chunk));
      turn = turn ? turn.concat(chunk) : chunk;
    }
    if (!turn) {
      turn = new AIMessageChunk({ content: '' });
    }
    const usage = turn.usage_metadata;
    // Models that report no usage (the local one) are counted with the ≈4 chars/token estimate.
    hooks.onUsage?.({
      input: usage?.input_tokens ?? estimate(messages),
      output:
        usage?.output_tokens ??
        Math.ceil(
          (textOf(turn).length +
            (typeof turn.content === 'string' ? turn.content.length : 0) +
            JSON.stringify(turn.tool_calls ?? []).length) /
            CHARS_PER_TOKEN,
        ),
      provider: runner.provider,
      reported: usage !== undefined,
    });
    messages.push(turn);
    const calls = turn.tool_calls ?? [];
    if (calls.length === 0) {
      return { content, steps: step, exhausted: false };
    }

    for (const call of calls) {
      signal.throwIfAborted();
      const id = call.id ?? `call_${step}_${call.name}`;
      const found = byName.get(call.name);
      hooks.onTool(call.name, 'started');
      if (!found) {
        hooks.onTool(call.name, 'failed');
        messages.push(
          new ToolMessage({ tool_call_id: id, name: call.name, content: '{"error":"unknown_tool"}', status: 'error' }),
        );
        continue;
      }
      try {
        const output: unknown = await found.invoke(call.args, { signal });
        hooks.onTool(call.name, 'succeeded');
        messages.push(new ToolMessage({ tool_call_id: id, name: call.name, content: String(output) }));
      } catch (err) {
        if (signal.aborted) {
          throw err;
        }
        hooks.onTool(call.name, 'failed');
        // The model gets a generic reason only: errors may carry database details.
        const reason =
          err instanceof Error && err.name === 'ToolInputParsingException' ? 'invalid_arguments' : 'tool_failed';
        messages.push(
          new ToolMessage({
            tool_call_id: id,
            name: call.name,
            content: JSON.stringify({ error: reason }),
            status: 'error',
          }),
        );
      }
    }
  }
  emit(params.exhaustedText);
  return { content, steps: params.maxSteps, exhausted: true };
}

function estimate(messages: BaseMessage[]): number {
  return Math.ceil(
    messages.reduce((n, m) => n + (typeof m.content === 'string' ? m.content.length : 0), 0) / CHARS_PER_TOKEN,
  );
}

function textOf(chunk: AIMessageChunk): string {
  if (!Array.isArray(chunk.content)) {
    return '';
  }
  return chunk.content
    .map((part) =>
      typeof part === 'object' && 'type' in part && part.type === 'text' && 'text' in part ? String(part.text) : '',
    )
    .join('');
}

import type { ModelProvider } from '@neonpro/config';
import type { AgentRunUsage, UsageOutcome } from '@neonpro/database';
import type { AgentRuntimeConfig } from '../agent.config.js';

/** The model a provider runs, as recorded in usage rows. */
export function modelName(provider: string, config: AgentRuntimeConfig): string {
  const names: Record<ModelProvider, string> = {
    local: 'local-clinic-model',
    openai: config.OPENAI_MODEL,
    anthropic: config.ANTHROPIC_MODEL,
    ollama: config.OLLAMA_MODEL,
  };
  return names[provider as ModelProvider] ?? provider;
}

/**
 * Accumulates what one run consumed (every model call's tokens, finished tool calls, wall time)
 * into the usage row the conversation store writes with the turn.
 */
export class RunUsageMeter {
  private input = 0;
  private output = 0;
  private tools = 0;
  private calls = 0;
  private allReported = true;
  private readonly started = performance.now();

  constructor(
    private readonly sessionId: string,
    private readonly config: AgentRuntimeConfig,
  ) {}

  /** One model call's usage (the provider's numbers, or the estimate: `reported` says which). */
  addModelCall(u: { input: number; output: number; reported: boolean }): void {
    this.calls++;
    this.input += u.input;
    this.output += u.output;
    this.allReported &&= u.reported;
  }

  addToolCall(): void {
    this.tools++;
  }

  /** False until a model was called: a run that never reached one costs nothing and is not recorded. */
  get billable(): boolean {
    return this.calls > 0;
  }

  finish(provider: string, outcome: UsageOutcome): AgentRunUsage {
    return {
      session_id: this.sessionId,
      provider,
      model: modelName(provider, this.config),
      input_tokens: this.input,
      output_tokens: this.output,
      tokens_reported: this.calls > 0 && this.allReported,
      tool_calls: this.tools,
      duration_ms: Math.round(performance.now() - this.started),
      outcome,
    };
  }
}

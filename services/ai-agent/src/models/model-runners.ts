import {
  AIMessage,
  AIMessageChunk,
  type BaseMessage,
  HumanMessage,
  SystemMessage,
  ToolMessage,
} from '@langchain/core/messages';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import type { Runnable } from '@langchain/core/runnables';
import type { StructuredToolInterface } from '@langchain/core/tools';
import { maskIdentityDates, PlaceholderStreamRestorer, type Pseudonymizer } from '@neonpro/privacy';
import { BrokenCircuitError, type CircuitBreakerPolicy } from 'cockatiel';
import type { ModelTurnRunner } from '../agent/agent-loop.js';
import { type ClinicTurn, turnConfigurable } from '../agent/turn-config.js';

/** A model that streams a turn in-process without the runnable machinery (the local one). */
export interface DirectTurnModel {
  streamTurn(messages: BaseMessage[], turn: ClinicTurn | undefined, signal: AbortSignal): AsyncIterable<AIMessageChunk>;
}

function isDirectTurnModel(model: object): model is DirectTurnModel {
  return 'streamTurn' in model && typeof model.streamTurn === 'function';
}

/** Streams one turn of a LangChain chat model with the tools bound. */
export class BoundModelRunner implements ModelTurnRunner {
  private readonly bound?: Runnable<BaseMessage[], AIMessageChunk>;
  private readonly direct?: DirectTurnModel;

  constructor(
    readonly provider: string,
    model: BaseChatModel,
    tools: readonly StructuredToolInterface[],
    /** The turn's facts for the model (`today`, the pending proposal), passed as runnable config. */
    private readonly turn?: ClinicTurn,
  ) {
    if (!model.bindTools) {
      throw new Error(`model ${provider} cannot bind tools`);
    }
    // The local model plans from the same messages and tool results, so binding adds nothing to it.
    if (isDirectTurnModel(model)) {
      this.direct = model;
    } else {
      this.bound = model.bindTools([...tools]) as Runnable<BaseMessage[], AIMessageChunk>;
    }
  }

  async *stream(messages: BaseMessage[], signal: AbortSignal): AsyncIterable<AIMessageChunk> {
    if (this.direct) {
      yield* this.direct.streamTurn(messages, this.turn, signal);
      return;
    }
    yield* await this.bound!.stream(messages, {
      signal,
      configurable: this.turn ? turnConfigurable(this.turn) : {},
    });
  }
}

/**
 * Keeps personal data inside: everything sent to the provider is pseudonymised (patient names
 * seen in tool results included), and placeholders in what comes back — streamed text and tool
 * call arguments — are restored before anyone sees or executes them.
 */
export class PseudonymizingRunner implements ModelTurnRunner {
  constructor(
    private readonly inner: ModelTurnRunner,
    private readonly pseudonymizer: Pseudonymizer,
    private readonly patientNames: () => Iterable<string>,
    /** Called before text leaves for the provider (who received what: the export's recipients). */
    private readonly onSend: () => void = () => undefined,
  ) {}

  get provider(): string {
    return this.inner.provider;
  }

  async *stream(messages: BaseMessage[], signal: AbortSignal): AsyncIterable<AIMessageChunk> {
    for (const name of this.patientNames()) {
      this.pseudonymizer.registerName(name);
    }
    const masked = messages.map((m) => this.mask(m));
    this.onSend();
    const restorer = new PlaceholderStreamRestorer(this.pseudonymizer);
    let acc: AIMessageChunk | undefined;
    for await (const chunk of this.inner.stream(masked, signal)) {
      acc = acc ? acc.concat(chunk) : chunk;
      const text = typeof chunk.content === 'string' ? chunk.content : '';
      const shown = restorer.push(text);
      if (shown) {
        yield new AIMessageChunk({ content: shown });
      }
    }
    const rest = restorer.flush();
    const calls = (acc?.tool_calls ?? []).map((c) => ({ ...c, args: this.pseudonymizer.restoreDeep(c.args) }));
    yield new AIMessageChunk({
      content: rest,
      tool_call_chunks: calls.map((c, index) => ({
        type: 'tool_call_chunk' as const,
        id: c.id,
        name: c.name,
        args: JSON.stringify(c.args),
        index,
      })),
      usage_metadata: acc?.usage_metadata,
    });
  }

  private mask(m: BaseMessage): BaseMessage {
    const text = (c: BaseMessage['content']) =>
      this.pseudonymizer.pseudonymize(typeof c === 'string' ? c : JSON.stringify(c));
    if (SystemMessage.isInstance(m)) {
      return new SystemMessage(text(m.content));
    }
    if (HumanMessage.isInstance(m)) {
      return new HumanMessage(text(m.content));
    }
    if (ToolMessage.isInstance(m)) {
      return new ToolMessage({
        content: text(withoutIdentityDates(m.content)),
        tool_call_id: m.tool_call_id,
        name: m.name,
        status: m.status,
      });
    }
    if (AIMessage.isInstance(m)) {
      return new AIMessage({
        content: text(m.content),
        tool_calls: (m.tool_calls ?? []).map((c) => ({
          ...c,
          args: JSON.parse(this.pseudonymizer.pseudonymize(JSON.stringify(c.args))) as Record<string, unknown>,
        })),
      });
    }
    return m;
  }
}

/** A tool result (JSON text) without birth dates: they identify a patient and no answer needs them. */
function withoutIdentityDates(content: BaseMessage['content']): BaseMessage['content'] {
  if (typeof content !== 'string') {
    return content;
  }
  try {
    return JSON.stringify(maskIdentityDates(JSON.parse(content) as unknown));
  } catch {
    return content;
  }
}

export interface FallbackLink {
  provider: string;
  runner: ModelTurnRunner;
  breaker: CircuitBreakerPolicy;
}

/** Thrown when every provider of the chain failed or had its breaker open. */
export class AllProvidersFailedError extends Error {
  constructor(readonly providers: string[]) {
    super(`all model providers failed: ${providers.join(', ')}`);
    this.name = 'AllProvidersFailedError';
  }
}

/**
 * Tries each provider in order through its own circuit breaker. A provider counts as failed when
 * the call fails before its first chunk with a breaker-worthy error (429, 5xx, network); once a
 * chunk was streamed the turn stays with that provider.
 */
export class FallbackRunner implements ModelTurnRunner {
  private last: string;

  constructor(
    private readonly chain: readonly FallbackLink[],
    private readonly onFallback: (from: string, reason: string) => void = () => undefined,
  ) {
    this.last = chain[0]?.provider ?? 'none';
  }

  get provider(): string {
    return this.last;
  }

  async *stream(messages: BaseMessage[], signal: AbortSignal): AsyncIterable<AIMessageChunk> {
    const tried: string[] = [];
    for (const link of this.chain) {
      signal.throwIfAborted();
      tried.push(link.provider);
      let iterator: AsyncIterator<AIMessageChunk> | undefined;
      let first: IteratorResult<AIMessageChunk> | undefined;
      try {
        await link.breaker.execute(async () => {
          iterator = link.runner.stream(messages, signal)[Symbol.asyncIterator]();
          first = await iterator.next();
        });
      } catch (err) {
        if (signal.aborted) {
          throw err;
        }
        if (err instanceof BrokenCircuitError || isProviderFailure(err)) {
          this.onFallback(link.provider, err instanceof BrokenCircuitError ? 'breaker_open' : failureReason(err));
          continue;
        }
        throw err;
      }
      this.last = link.provider;
      if (!first || first.done || !iterator) {
        return;
      }
      yield first.value;
      for (;;) {
        const next = await iterator.next();
        if (next.done) {
          return;
        }
        yield next.value;
      }
    }
    throw new AllProvidersFailedError(tried);
  }
}

function statusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) {
    return undefined;
  }
  const status =
    (err as { status?: unknown; response?: { status?: unknown } }).status ??
    (err as { response?: { status?: unknown } }).response?.status;
  return typeof status === 'number' ? status : undefined;
}

/** 429, 5xx and network failures open breakers and move to the next provider; 4xx do not. */
export function isProviderFailure(err: unknown): boolean {
  const status = statusOf(err);
  if (status !== undefined) {
    return status === 429 || status >= 500;
  }
  const code = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  const text = err instanceof Error ? `${err.name} ${err.message} ${typeof code === 'string' ? code : ''}` : '';
  return /ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|socket hang up|fetch failed|Connection error|APIConnection|timed? ?out/i.test(
    text,
  );
}

function failureReason(err: unknown): string {
  const status = statusOf(err);
  return status !== undefined ? `http_${status}` : 'network';
}

import { ChatAnthropic } from '@langchain/anthropic';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { ChatOllama } from '@langchain/ollama';
import { ChatOpenAI } from '@langchain/openai';
import type { ModelProvider } from '@neonpro/config';
import type { AgentRuntimeConfig } from '../agent.config.js';
import { LocalClinicModel } from './local-clinic-model.js';

/**
 * One chat model per provider. SDK retries are off everywhere (maxRetries 0): the fallback chain
 * with its breakers is the only retry loop, so a 429 is not hammered N×M times.
 */
export function createChatModel(provider: ModelProvider, config: AgentRuntimeConfig): BaseChatModel {
  switch (provider) {
    case 'local':
      return new LocalClinicModel({ tokenDelayMs: config.AGENT_TOKEN_DELAY_MS });
    case 'openai':
      return new ChatOpenAI({
        model: config.OPENAI_MODEL,
        // Keyless OpenAI-compatible servers (vLLM, llama.cpp) still need a non-empty key for the SDK.
        apiKey: config.OPENAI_API_KEY ?? 'not-needed',
        configuration: { baseURL: config.OPENAI_BASE_URL, maxRetries: 0 },
        maxRetries: 0,
        streamUsage: true,
        timeout: config.AGENT_MODEL_TIMEOUT_MS,
        useResponsesApi: false,
      });
    case 'anthropic':
      return new ChatAnthropic({
        model: config.ANTHROPIC_MODEL,
        apiKey: config.ANTHROPIC_API_KEY,
        anthropicApiUrl: config.ANTHROPIC_BASE_URL,
        maxRetries: 0,
        clientOptions: { timeout: config.AGENT_MODEL_TIMEOUT_MS, maxRetries: 0 },
      });
    case 'ollama':
      return new ChatOllama({ model: config.OLLAMA_MODEL, baseUrl: config.OLLAMA_BASE_URL, maxRetries: 0 });
  }
}

export { createNeonProClient, type NeonProClient, type NeonProClientOptions, type Session } from './neonpro-client.js';
export { type ChatProposal, type ChatRequest, type ChatStreamEvent, type StreamChatOptions } from './chat-stream.js';
export {
  type ChatDoneEvent,
  type ChatErrorEvent,
  type ChatProposalEvent,
  type ChatRestartEvent,
  type ChatSend,
  type ChatServerEvents,
  type ChatTokenEvent,
  type ChatToolEvent,
  RealtimeChat,
  type RealtimeChatOptions,
  RealtimeError,
  type SessionExpiredEvent,
} from './realtime-chat.js';
export { type ErrorCode, NeonProError, type Problem } from './errors.js';
export { SseParser, type RawSseEvent } from './sse-parser.js';
export type { components, operations, paths } from './generated/openapi.js';

import createClient, { type Client } from 'openapi-fetch';
import { type ChatRequest, type ChatStreamEvent, type StreamChatOptions, streamChat } from './chat-stream.js';
import { errorFrom } from './errors.js';
import type { components, paths } from './generated/openapi.js';
import { RealtimeChat, type RealtimeChatOptions } from './realtime-chat.js';

export type Session = components['schemas']['Session'];

export interface NeonProClientOptions {
  /** The gateway, e.g. `https://api.neonpro.com.br`; `''` in a page served by the gateway. */
  baseUrl: string;
  /** A session to start with (e.g. restored from storage). */
  session?: Session;
  /** Called after every login and refresh (persist the session here). */
  onSession?: (session: Session) => void;
  fetch?: typeof fetch;
}

/** The typed REST client (generated from the OpenAPI document) plus login, SSE chat and realtime chat. */
export interface NeonProClient {
  /** Every REST operation, typed: `api.GET('/v1/patients', { params: { query: { search } } })`. */
  readonly api: Client<paths>;
  readonly session: Session | undefined;
  login(email: string, password: string): Promise<Session>;
  /** Exchanges the refresh token for a new session. */
  refresh(): Promise<Session>;
  /** One chat turn streamed as Server-Sent Events, resumed after a dropped connection. */
  streamChat(body: ChatRequest, opts?: StreamChatOptions): AsyncGenerator<ChatStreamEvent, void, undefined>;
  /** The Socket.IO realtime chat, authenticated with the current session. */
  realtime(opts?: RealtimeChatOptions): RealtimeChat;
}

export function createNeonProClient(opts: NeonProClientOptions): NeonProClient {
  const baseUrl = opts.baseUrl.replace(/\/+$/, '');
  // Late-bound so tests and browsers can swap fetch; openapi-fetch would capture it once.
  const doFetch: typeof fetch = (input, init) => (opts.fetch ?? globalThis.fetch)(input, init);
  let session = opts.session;
  const api = createClient<paths>({ baseUrl, fetch: (req) => doFetch(req) });
  api.use({
    onRequest({ request }) {
      if (session && !request.headers.has('authorization')) {
        request.headers.set('authorization', `Bearer ${session.access_token}`);
      }
      return request;
    },
  });
  const authHeaders = (): Record<string, string> =>
    session ? { authorization: `Bearer ${session.access_token}` } : {};
  const started = (s: Session): Session => {
    session = s;
    opts.onSession?.(s);
    return s;
  };

  return {
    api,
    get session() {
      return session;
    },
    async login(email, password) {
      const { data, error, response } = await api.POST('/v1/auth/login', { body: { email, password } });
      // openapi-fetch has already read the problem body into `error`.
      if (!data) {
        throw errorFrom(response, error);
      }
      return started(data);
    },
    async refresh() {
      if (!session) {
        throw new Error('Log in first: there is no session to refresh.');
      }
      const { data, error, response } = await api.POST('/v1/auth/refresh', {
        body: { refresh_token: session.refresh_token },
      });
      if (!data) {
        throw errorFrom(response, error);
      }
      return started(data);
    },
    streamChat: (body, streamOpts) => streamChat({ baseUrl, fetch: doFetch, headers: authHeaders }, body, streamOpts),
    realtime: (realtimeOpts) => new RealtimeChat(baseUrl, () => session?.access_token, realtimeOpts),
  };
}

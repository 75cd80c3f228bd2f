import type { RelayedRunEvent } from '@neonpro/contracts';
import { HealthRegistry } from '@neonpro/observability';
import { PolicyRegistry } from '@neonpro/resilience';
import type { GatewayRuntimeConfig } from '../gateway.config.js';
import { AGENT_POLICY } from '../resilience/gateway-policies.js';
import type { AgentClient } from './agent-client.service.js';
import { ChatTurnService } from './chat-turn.service.js';
import { RunningChats } from './running-chats.service.js';

const USER = '00000000-0000-4000-8000-000000000001';
const ctx = { userId: USER, requestId: 'req-1' };

const token = (seq: number, delta: string): RelayedRunEvent => ({ type: 'token', delta, seq });
const done = (seq: number, content: string): RelayedRunEvent => ({
  type: 'done',
  seq,
  message_id: 'm',
  content,
});

/**
 * The agent side of a turn as the service sees it: `events` is a generator whose `finally` is
 * where the real one clears its timers and drops its NATS subscription. The test reads
 * `released` to see whether the turn let go of it.
 */
function agentWith(script: RelayedRunEvent[]): { agent: AgentClient; released: () => boolean } {
  let released = false;
  async function* events(): AsyncGenerator<RelayedRunEvent, void, undefined> {
    try {
      for (const e of script) {
        yield await Promise.resolve(e);
      }
    } finally {
      released = true;
    }
  }
  const agent = {
    admit: () => Promise.resolve(),
    start: () => Promise.resolve({ sub: {} }),
    events,
    cancel: () => undefined,
  } as unknown as AgentClient;
  return { agent, released: () => released };
}

function service(agent: AgentClient, running: RunningChats): ChatTurnService {
  const policies = new PolicyRegistry([
    {
      name: AGENT_POLICY,
      settings: {
        timeoutMs: 0,
        retries: 0,
        retryBaseMs: 1,
        breaker: { mode: 'consecutive', threshold: 5, ratio: 0.5, windowMs: 1000, minRps: 1, halfOpenAfterMs: 1000 },
        bulkhead: { limit: 10, queue: 0 },
      },
      isFailure: () => false,
    },
  ]);
  const config = { AGENT_RETRY_AFTER_S: 5 } as GatewayRuntimeConfig;
  return new ChatTurnService(agent, new HealthRegistry(), policies, running, config);
}

describe('ChatTurnService: a turn lets go of its run when the transport is done with it', () => {
  it('when the first event is already done (no tokens before it), as the JSON answer reads it', async () => {
    const { agent, released } = agentWith([done(1, 'Olá')]);
    const running = new RunningChats();
    const turns = service(agent, running);
    const turn = await turns.open({ message: 'oi', client_message_id: 'c-1' }, ctx);
    expect(running.size).toBe(1);
    await expect(turns.collect(turn)).resolves.toEqual({ content: 'Olá', proposal: undefined });
    // What every transport does when it has what it needs.
    await turn.events.return(undefined);
    expect(released()).toBe(true);
    expect(running.size).toBe(0);
  });

  it('when an SSE client leaves after the first event, before the next one is asked for', async () => {
    const { agent, released } = agentWith([token(1, 'Olá '), token(2, 'mundo'), done(3, 'Olá mundo')]);
    const running = new RunningChats();
    const turn = await service(agent, running).open({ message: 'oi', client_message_id: 'c-2' }, ctx);
    expect(turn.first).toEqual(token(1, 'Olá '));
    await turn.events.return(undefined);
    expect(released()).toBe(true);
    expect(running.size).toBe(0);
  });

  it('when the events run to their end', async () => {
    const { agent, released } = agentWith([token(1, 'Olá'), done(2, 'Olá')]);
    const running = new RunningChats();
    const turns = service(agent, running);
    const turn = await turns.open({ message: 'oi', client_message_id: 'c-3' }, ctx);
    await expect(turns.collect(turn)).resolves.toMatchObject({ content: 'Olá' });
    // collect stops at done; the generator is still suspended there until the transport returns it.
    expect(running.size).toBe(1);
    await turn.events.return(undefined);
    expect(released()).toBe(true);
    expect(running.size).toBe(0);
    // A second return (the transport's finally after an error path) changes nothing.
    await expect(turn.events.return(undefined)).resolves.toEqual({ done: true, value: undefined });
  });
});

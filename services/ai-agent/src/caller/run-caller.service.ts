import { Inject, Injectable } from '@nestjs/common';
import {
  type AgentCallerClaims,
  type AgentChatRequest,
  type GrantKey,
  importGrantKey,
  RunGrantError,
  verifyRunGrant,
} from '@neonpro/contracts';
import { AGENT_CONFIG, type AgentRuntimeConfig } from '../agent.config.js';
import { CALLER_DIRECTORY, type CallerDirectory } from './caller-directory.port.js';

export class CallerRefused extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'CallerRefused';
  }
}

/**
 * Zero trust on the bus: a run executes as the user named by a grant the gateway signed for
 * exactly this run (message id, session id, text); clinic and role come from the database.
 * Anything else (no grant, a forged or altered one, one for another run, an expired one: a
 * redelivery after AGENT_GRANT_TTL_S) is refused before any data is read.
 */
@Injectable()
export class RunCallerService {
  private key?: Promise<GrantKey>;

  constructor(
    @Inject(AGENT_CONFIG) private readonly config: AgentRuntimeConfig,
    @Inject(CALLER_DIRECTORY) private readonly directory: CallerDirectory,
  ) {}

  async resolve(grant: string | undefined, request: AgentChatRequest): Promise<AgentCallerClaims> {
    this.key ??= importGrantKey(this.config.AGENT_GRANT_PUBLIC_KEY, 'verify');
    let verified: { userId: string; exp: number };
    try {
      verified = await verifyRunGrant(await this.key, grant, {
        messageId: request.message_id,
        sessionId: request.session_id,
        message: request.message,
      });
    } catch (err) {
      throw new CallerRefused(err instanceof RunGrantError ? err.message : 'invalid grant');
    }
    const member = await this.directory.membership(verified.userId);
    if (!member) {
      throw new CallerRefused('the user belongs to no clinic');
    }
    const raw = { sub: verified.userId, role: 'authenticated', aud: 'authenticated', exp: verified.exp };
    return { sub: verified.userId, email: null, clinic_id: member.clinic_id, role: member.role, raw };
  }
}

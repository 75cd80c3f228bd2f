import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import {
  type AgentCallerClaims,
  type AgentChatRequest,
  type GrantKey,
  importGrantKey,
  RunGrantError,
  verifyRunGrant,
} from '@neonpro/contracts';
import { AGENT_CONFIG, type AgentRuntimeConfig } from '../agent.config.js';
import { CONVERSATION_STORE, type ConversationStore } from '../conversation/conversation-store.port.js';
import { CALLER_DIRECTORY, type CallerDirectory, type VerifiedRunUser } from './caller-directory.port.js';

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
export class RunCallerService implements OnModuleInit {
  private key?: GrantKey;

  constructor(
    @Inject(AGENT_CONFIG) private readonly config: AgentRuntimeConfig,
    @Inject(CALLER_DIRECTORY) private readonly directory: CallerDirectory,
    @Inject(CONVERSATION_STORE) private readonly conversations: ConversationStore,
  ) {}

  onModuleInit(): void {
    // Once, at boot; the config schema has already refused a key that cannot be read.
    this.key = importGrantKey(this.config.AGENT_GRANT_PUBLIC_KEY, 'verify');
  }

  /**
   * The run's caller: the grant verified, then their clinic and role. When the conversation store
   * reads the membership in the turn's first transaction (`beginMemberTurn`), that read is left to
   * it and the verified user is returned; the store refuses a user of no clinic before any other read.
   */
  async resolve(grant: string | undefined, request: AgentChatRequest): Promise<AgentCallerClaims | VerifiedRunUser> {
    const user = this.verify(grant, request);
    return this.conversations.beginMemberTurn ? user : await this.member(user);
  }

  /** The grant checked against this run; nothing is read. */
  verify(grant: string | undefined, request: AgentChatRequest): VerifiedRunUser {
    let verified: { userId: string; exp: number };
    try {
      verified = verifyRunGrant(this.key!, grant, {
        messageId: request.message_id,
        sessionId: request.session_id,
        message: request.message,
      });
    } catch (err) {
      throw new CallerRefused(err instanceof RunGrantError ? err.message : 'invalid grant');
    }
    const raw = { sub: verified.userId, role: 'authenticated', aud: 'authenticated', exp: verified.exp };
    return { sub: verified.userId, raw };
  }

  /** Clinic and role from the caller directory (clinic_members). */
  async member(user: VerifiedRunUser): Promise<AgentCallerClaims> {
    const member = await this.directory.membership(user.sub);
    if (!member) {
      throw new CallerRefused(NOT_A_MEMBER);
    }
    return { sub: user.sub, email: null, clinic_id: member.clinic_id, role: member.role, raw: user.raw };
  }
}

export const NOT_A_MEMBER = 'the user belongs to no clinic';

/** A caller whose clinic and role are known (else only their grant was verified). */
export function isResolvedCaller(who: AgentCallerClaims | VerifiedRunUser): who is AgentCallerClaims {
  return 'clinic_id' in who;
}

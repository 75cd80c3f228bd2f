import { AIMessage, type BaseMessage, HumanMessage, SystemMessage } from '@langchain/core/messages';
import type { StructuredToolInterface } from '@langchain/core/tools';
import type { AgentCallerClaims, AgentChatRequest } from '@neonpro/contracts';
import { buildSystemPrompt } from '../agent/system-prompt.js';
import { type ClinicTurn } from '../agent/turn-config.js';
import type { ConversationStore, StoredTurn } from '../conversation/conversation-store.port.js';
import { weekdayName } from '../i18n/messages.js';
import { detectLanguage, type Language } from '../models/language.js';
import type { ClinicToolbox } from '../tools/clinic-tools.js';
import { localDate } from '../tools/clinic-time.js';
import { newToolRunContext, type ToolRunContext } from '../tools/tool-context.js';

/** Everything one run needs, gathered before the model is called. */
export interface TurnContext {
  ctx: ToolRunContext;
  tools: StructuredToolInterface[];
  messages: BaseMessage[];
  /** The facts the model receives through the runnable config. */
  turn: ClinicTurn;
  lang: Language;
}

/**
 * Builds a turn's context: the stored history, the clinic's date and zone, the pending proposal
 * (only the one shown by the previous answer), the tools bound to this run and the messages.
 */
export class TurnContextBuilder {
  constructor(
    private readonly toolbox: ClinicToolbox,
    private readonly conversations: ConversationStore,
    /** Exposed so the first write of a turn can read the history in its transaction. */
    readonly historyTokenBudget: number,
    private readonly opts: { maskTypedNames?: boolean; now?: () => Date } = {},
  ) {}

  async build(
    request: AgentChatRequest,
    caller: AgentCallerClaims,
    turnKey: string,
    signal: AbortSignal,
    /** The history, when the store already read it with the turn's first write. */
    stored?: StoredTurn[],
  ): Promise<TurnContext> {
    const [history, info] = await Promise.all([
      stored ??
        this.conversations.loadHistory(caller, {
          sessionId: request.session_id,
          tokenBudget: this.historyTokenBudget,
          excludeTurnKey: turnKey,
        }),
      this.toolbox.clinicInfo(caller),
    ]);
    signal.throwIfAborted();
    const timezone = this.toolbox.timezoneOf(info);
    const last = history.at(-1);
    const pendingProposal = last?.role === 'assistant' ? last.proposal : undefined;
    const today = localDate((this.opts.now ?? (() => new Date()))(), timezone);
    const lang = detectLanguage(request.message);
    const ctx = newToolRunContext({
      caller,
      sessionId: request.session_id,
      userMessage: request.message,
      lang,
      confirmId: request.confirm?.proposal_id,
      pendingProposal,
    });
    // Names seen in earlier turns are masked too: the history (and the user retyping them)
    // must not leak to an external provider any more than this turn's tool results.
    for (const t of history) {
      for (const name of t.patient_names ?? []) {
        ctx.patientNames.add(name);
      }
      if (t.proposal) {
        ctx.patientNames.add(t.proposal.patient_name);
      }
    }
    // Patients the user names (this turn or earlier ones) are masked before the first call to
    // an external provider, before any tool result has registered them.
    if (this.opts.maskTypedNames && this.conversations.patientNamesIn) {
      const typed = [...history.filter((t) => t.role === 'user').map((t) => t.content), request.message];
      for (const name of await this.conversations.patientNamesIn(caller, typed.join('\n'))) {
        ctx.patientNames.add(name);
      }
    }
    const messages: BaseMessage[] = [
      new SystemMessage(
        buildSystemPrompt({
          clinicName: info.name,
          today,
          weekdayName: weekdayName('pt', today),
          timezone,
          role: caller.role,
          pendingProposal,
        }),
      ),
      ...history.map((t) => (t.role === 'user' ? new HumanMessage(t.content) : new AIMessage(t.content))),
      new HumanMessage(request.message),
    ];
    return {
      ctx,
      // The run's tools use the clinic's facts read above: one read per run.
      tools: this.toolbox.tools(ctx, info),
      messages,
      turn: { today, timezone, pending_proposal: pendingProposal, confirm_id: request.confirm?.proposal_id },
      lang,
    };
  }
}

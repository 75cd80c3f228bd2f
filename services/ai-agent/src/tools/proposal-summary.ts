import { MESSAGES, weekdayName } from '../i18n/messages.js';
import type { Language } from '../models/language.js';
import type { ProposalDraft } from './action-proposal.js';

type Unsummarised<T> = T extends unknown ? Omit<T, 'summary'> : never;
import { localDate, localTime } from './clinic-time.js';

/**
 * The summary the user confirms, rendered by the server from the proposal's validated fields
 * (never from the model's text): who, what, when, with whom.
 */
export function renderProposalSummary(p: Unsummarised<ProposalDraft>, tz: string, lang: Language): string {
  const start = new Date(p.starts_at);
  const date = localDate(start, tz);
  const base = {
    patient: p.patient_name,
    professional: p.professional_name,
    procedure: p.procedure,
    date,
    weekday: weekdayName(lang, date),
    start: localTime(start, tz),
    end: 'ends_at' in p ? localTime(new Date(p.ends_at), tz) : '',
  };
  const m = MESSAGES[lang].proposalSummary;
  if (p.action === 'book') {
    return m.book(base);
  }
  if (p.action === 'cancel') {
    return m.cancel(base);
  }
  const from = new Date(p.from_starts_at);
  return m.reschedule({ ...base, fromDate: localDate(from, tz), fromStart: localTime(from, tz) });
}

import { z } from 'zod';

/** Argument shapes shared by several tools. */
// A real calendar day: a bare YYYY-MM-DD pattern let 2026-02-31 through, which Date.UTC rolls over
// to 3 March, so a booking could land on a day nobody asked for.
export const isoDate = z.iso.date({ error: 'a calendar date, YYYY-MM-DD' });
export const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:mm');
export const proposalIdArg = z.string().max(40).describe('the proposal_id returned by step 1');

/** Tool argument naming the caller's own professional record (professionals.user_id = caller). */
export const SELF_PROFESSIONAL = 'me';

import { z } from 'zod';

/** Argument shapes shared by several tools. */
export const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'YYYY-MM-DD');
export const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:mm');
export const proposalIdArg = z.string().max(40).describe('the proposal_id returned by step 1');

/** Tool argument naming the caller's own professional record (professionals.user_id = caller). */
export const SELF_PROFESSIONAL = 'me';

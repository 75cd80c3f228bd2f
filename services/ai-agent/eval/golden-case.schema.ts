import { z } from 'zod';

/**
 * A golden conversation, as stored in `golden/*.json`. Dates are tokens resolved against the
 * clinic's today when the case runs (`$today+1`, `$mon-7`, `$day:5`, `$next:fri`…), and facts
 * name what to look up in the database, so no expectation goes stale as the calendar moves.
 */
const dateToken = z.string().min(1);

export const factSchema = z.union([
  /** The answer gives the number of active appointments in the range (and their patients when few). */
  z.strictObject({
    appointments: z.strictObject({
      from: dateToken,
      to: dateToken,
      professional: z.string().optional(),
      status: z.string().optional(),
      patient: z.string().optional(),
    }),
  }),
  /** The answer names every patient whose name has all these words. */
  z.strictObject({ patients_matching: z.string() }),
  /** The answer names this patient (found in the database by name, CPF or phone). */
  z.strictObject({ patient: z.string() }),
  z.strictObject({ clinic_hours: z.literal(true) }),
  z.strictObject({ clinic_services: z.literal(true) }),
  z.strictObject({ professionals: z.literal(true) }),
  /** Every time the answer lists is a free start for the professional that day (and there is one). */
  z.strictObject({ free_slots: z.strictObject({ professional: z.string(), date: dateToken }) }),
]);
export type Fact = z.infer<typeof factSchema>;

export const writeSchema = z.strictObject({
  action: z.enum(['booked', 'cancelled', 'rescheduled']),
  patient: z.string(),
  /** For booked and rescheduled: the new local date and time. */
  date: dateToken.optional(),
  time: z.string().optional(),
});

export const turnSchema = z.strictObject({
  user: z.string().min(1),
  /** Send `confirm: {proposal_id}` for the proposal the previous answer showed (the card's button). */
  confirm: z.boolean().optional(),
  /** Tools that must be called, in this order (others may come between). `[]`: no tool at all. */
  tools: z.array(z.string()).optional(),
  /** Key arguments, checked on what reached the database port. */
  args: z
    .strictObject({
      list_appointments: z
        .strictObject({
          date_from: dateToken.optional(),
          date_to: dateToken.optional(),
          professional: z.string().optional(),
          patient: z.string().optional(),
          status: z.string().optional(),
        })
        .optional(),
      search_patients: z.strictObject({ query: z.string() }).optional(),
      find_free_slots: z.strictObject({ professional: z.string(), date: dateToken }).optional(),
    })
    .optional(),
  facts: z.array(factSchema).default([]),
  /** Every string must appear (case and accents ignored). */
  contains: z.array(z.string()).default([]),
  /** At least one string of each group must appear. */
  contains_any: z.array(z.array(z.string()).min(1)).default([]),
  not_contains: z.array(z.string()).default([]),
  /** A write proposal event must (true) or must not (false) be emitted. */
  proposal: z.boolean().optional(),
  /** What changed in the appointments table during this turn: nothing unless stated. */
  writes: z.array(writeSchema).default([]),
});
export type GoldenTurn = z.infer<typeof turnSchema>;

export const goldenCaseSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9-]+$/),
  /** Who asks: the receptionist (default), Dra. Lima (a professional with a login) or the admin. */
  as: z.enum(['reception', 'lima', 'admin']).default('reception'),
  /** The row of the issue's "Why" table this case answers. */
  why: z.string().optional(),
  turns: z.array(turnSchema).min(1),
});
export type GoldenCase = z.infer<typeof goldenCaseSchema>;

export const goldenFileSchema = z.strictObject({
  category: z.string().min(1),
  cases: z.array(goldenCaseSchema).min(1),
});
export type GoldenFile = z.infer<typeof goldenFileSchema>;

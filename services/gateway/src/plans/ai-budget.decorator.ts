import { SetMetadata } from '@nestjs/common';

export const CHARGES_AI_BUDGET_KEY = 'neonpro:charges-ai-budget';

/** A route that starts an agent run: refused with `quota_exceeded` once the clinic's monthly budget is spent. */
export const ChargesAiBudget = (): MethodDecorator => SetMetadata(CHARGES_AI_BUDGET_KEY, true);

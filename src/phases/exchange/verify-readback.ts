// The Exchange Online part of verify: configure-exchange's reads again, read-only. It passes when nothing is left to
// change (the Dynamics app on EwsAllowedAppIDs, EwsEnabled True, the user-agent lists and the mailboxes as configured)
// and fails naming what is not; it is skipped, with the reason, where the tenant cannot be read from this runner.
// Exchange Online applies EWS changes within up to 24 hours: a pass here means the settings are right, not yet that
// Exchange Online enforces them (the mailboxes' Test & Enable is that proof).
import type { StepResult } from '../phase.js';
import type { VerifyReadback } from '../verify.js';
import { countdownFromResult, prepareExchange, runExchange } from '../configure-exchange.js';
import { evaluateExchangeVerify } from './verify-evaluate.js';

const STEP = {
  id: 'exchange.ews-access',
  title: "Exchange Online: the tenant's EWS access for the Dynamics app",
  target: 'Exchange Online',
} as const;

export const exchangeReadback: VerifyReadback = {
  id: 'exchange',
  title: "Exchange Online: the tenant's EWS access for the Dynamics app",
  async collect(ctx): Promise<StepResult[]> {
    if (!ctx.services.exchange) return [];
    let result;
    try {
      result = await runExchange(ctx, await prepareExchange(ctx), 'plan');
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return [{ ...STEP, status: 'not-checked', reason, before: null, after: null }];
    }
    return [{ ...STEP, ...evaluateExchangeVerify(result, countdownFromResult(ctx, result)) }];
  },
};

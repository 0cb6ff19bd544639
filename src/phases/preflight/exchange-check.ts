// Preflight's Exchange Online part: configure-exchange's reads, run read-only (the module with -WhatIf), and the one
// line with the days left until 2027-04-01 and the tenant's EWS state. A tenant that blocks D365 is a finding
// (configure-exchange fixes it), not a failure; a change apply would refuse (EwsEnabled unset or False without
// exchange.ews.enableOrganization) fails the check, since the renewal would stop there. When the tenant cannot be
// read from this runner (no module, no sign-in), the check is skipped with the reason and the line says so.
import type { PreflightCheck } from './check.js';
import { countdownFromResult, prepareExchange, runExchange } from '../configure-exchange.js';
import { evaluateExchangeRead, evaluateExchangeReadFailure } from './exchange-evaluate.js';

const STEP = {
  id: 'exchange.ews-access',
  title: "The tenant's EWS access for the Dynamics app (configure-exchange's reads, read-only)",
  target: 'Exchange Online',
} as const;

export const exchangeCheck: PreflightCheck = {
  id: 'exchange',
  applies: (ctx) => !!ctx.services.exchange,
  plan: () => [
    {
      ...STEP,
      action: 'check',
      before: null,
      after: { reads: ['EwsEnabled', 'EwsAllowedAppIDs', 'EwsApplicationAccessPolicy', 'the mailboxes with EWS off'] },
    },
  ],
  async run(ctx) {
    let result;
    try {
      const prepared = await prepareExchange(ctx);
      result = await runExchange(ctx, prepared, 'plan');
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return { results: [{ ...STEP, before: null, after: null, ...evaluateExchangeReadFailure(reason, ctx.now) }] };
    }
    const finding = evaluateExchangeRead(result, countdownFromResult(ctx, result));
    return { results: [{ ...STEP, before: null, after: null, ...finding }] };
  },
};

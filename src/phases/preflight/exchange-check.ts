// Preflight's Exchange Online part: configure-exchange's reads, run read-only (the module with -WhatIf), and the one
// line with the days left until 2027-04-01 and the tenant's EWS state. A tenant that blocks D365 is a finding
// (configure-exchange fixes it), not a failure; a change apply would refuse (EwsEnabled unset or False without
// exchange.ews.enableOrganization) fails the check, since the renewal would stop there. When the tenant cannot be
// read from this runner (no module, no sign-in), the check is skipped with the reason and the line says so.
import type { StepResult } from '../phase.js';
import type { PreflightCheck } from './check.js';
import { countdownFromResult, prepareExchange, runExchange } from '../configure-exchange.js';
import { ewsCountdownLine } from '../exchange/countdown.js';

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
      const refused = /apply refuses|EwsEnabled of the organization is/.test(reason);
      const line = ewsCountdownLine(ctx.now, { notRead: refused ? 'see the error' : reason });
      const step: StepResult = refused
        ? { ...STEP, status: 'failed', before: null, after: null, error: reason, warnings: [line] }
        : // Not read is not "fine": the step says why, and the line says the state is unknown.
          {
            ...STEP,
            status: 'not-checked',
            reason,
            before: null,
            after: null,
            warnings: [line],
          };
      return { results: [step] };
    }
    const line = countdownFromResult(ctx, result);
    const pending = result.steps.filter((s) => s.status === 'would-change');
    const refusal = pending.find((s) => s.message?.startsWith('apply refuses'));
    const findings = [
      ...pending.map((s) => `configure-exchange would change: ${s.title}${s.message ? ` (${s.message})` : ''}`),
      ...result.warnings,
    ];
    const read = result.steps.find((s) => s.id === 'read-organization');
    return {
      results: [
        {
          ...STEP,
          status: refusal ? 'failed' : 'unchanged',
          before: null,
          after: read?.after ?? null,
          evidence: { steps: result.steps.map((s) => ({ id: s.id, status: s.status })) },
          ...(refusal ? { error: refusal.message ?? 'configure-exchange would refuse' } : {}),
          warnings: [line, ...findings],
        },
      ],
    };
  },
};

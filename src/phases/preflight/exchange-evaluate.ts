// Preflight's Exchange Online finding from configure-exchange's read-only run, pure (no PowerShell, no clock read):
// a tenant that blocks D365 is a finding (configure-exchange fixes it), not a failure; a change apply would refuse
// (EwsEnabled unset or False without exchange.ews.enableOrganization) fails, since the renewal would stop there;
// a tenant that could not be read is not checked, with the reason.
import type { PhaseScriptResult } from '../../powershell/types.js';
import { ewsCountdownLine } from '../exchange/countdown.js';
import type { Finding } from './check.js';

/** How configure-exchange words the changes apply would refuse. */
const APPLY_REFUSES = /^apply refuses/;
const REFUSED_ERROR = /apply refuses|EwsEnabled of the organization is/;

/** The finding from what configure-exchange read; `countdown` is the line with the days left and the tenant's state. */
export function evaluateExchangeRead(result: PhaseScriptResult, countdown: string): Finding {
  const pending = result.steps.filter((s) => s.status === 'would-change');
  const refusal = pending.find((s) => s.message && APPLY_REFUSES.test(s.message));
  const findings = [
    ...pending.map((s) => `configure-exchange would change: ${s.title}${s.message ? ` (${s.message})` : ''}`),
    ...result.warnings,
  ];
  const read = result.steps.find((s) => s.id === 'read-organization');
  return {
    status: refusal ? 'failed' : 'unchanged',
    before: null,
    after: read?.after ?? null,
    evidence: { steps: result.steps.map((s) => ({ id: s.id, status: s.status })) },
    ...(refusal ? { error: refusal.message ?? 'configure-exchange would refuse' } : {}),
    warnings: [countdown, ...findings],
  };
}

/** The finding when configure-exchange's reads did not complete: a refusal fails, anything else is not checked. */
export function evaluateExchangeReadFailure(reason: string, now: Date): Finding {
  const refused = REFUSED_ERROR.test(reason);
  const line = ewsCountdownLine(now, { notRead: refused ? 'see the error' : reason });
  return refused
    ? { status: 'failed', before: null, after: null, error: reason, warnings: [line] }
    : // Not read is not "fine": the step says why, and the line says the state is unknown.
      { status: 'not-checked', reason, before: null, after: null, warnings: [line] };
}

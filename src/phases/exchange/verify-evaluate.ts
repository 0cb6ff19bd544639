// verify's Exchange Online judgement from configure-exchange's read-only run, pure (no PowerShell, no clock read):
// anything configure-exchange would still change fails verify, naming it; the settings configure-exchange only
// reports (skipped with a message) are warnings; `countdown` is the line with the days left and the tenant's state.
import type { PhaseScriptResult } from '../../powershell/types.js';
import type { StepResult } from '../phase.js';

export type ExchangeVerdict = Pick<StepResult, 'status' | 'before' | 'after' | 'evidence' | 'error' | 'warnings'>;

export function evaluateExchangeVerify(result: PhaseScriptResult, countdown: string): ExchangeVerdict {
  const pending = result.steps.filter((s) => s.status === 'would-change');
  const read = result.steps.find((s) => s.id === 'read-organization');
  const reported = result.steps.filter((s) => s.status === 'skipped' && s.message).map((s) => s.message!);
  return {
    status: pending.length ? 'failed' : 'unchanged',
    before: null,
    after: read?.after ?? null,
    evidence: { steps: result.steps.map((s) => ({ id: s.id, status: s.status })) },
    ...(pending.length
      ? {
          error: `not as configure-exchange leaves it: ${pending.map((s) => s.title + (s.message ? ` (${s.message})` : '')).join('; ')}; run configure-exchange`,
        }
      : {}),
    warnings: [countdown, ...reported],
  };
}

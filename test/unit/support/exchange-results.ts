// configure-exchange's read-only result as the PowerShell module returns it, for the unit tests of the judgements
// made from it (preflight's finding, verify's verdict).
import type { PhaseScriptResult, PhaseScriptStep } from '../../../src/powershell/types.js';

export function step(
  id: string,
  status: PhaseScriptStep['status'],
  fields: Partial<PhaseScriptStep> = {},
): PhaseScriptStep {
  return { id, title: id, status, changed: false, before: null, after: null, evidence: null, message: null, ...fields };
}

export function exchangeResult(steps: PhaseScriptStep[], warnings: string[] = []): PhaseScriptResult {
  return {
    phase: 'configure-exchange',
    mode: 'plan',
    server: 'Exchange Online',
    ok: true,
    changed: false,
    steps,
    evidence: {},
    warnings,
  } as PhaseScriptResult;
}

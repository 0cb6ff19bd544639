// The steps of the PowerShell-backed phases (ids, titles, which only read), defined once: in the module's
// Steps.json, which its functions read to title the step objects they return, and imported here (esbuild bundles the
// JSON into each entry). TypeScript adds only what the module does not decide: how a plan names a change.
import catalogue from '../../../powershell/D365ExoSync/Steps.json' with { type: 'json' };
import type { ModuleStep, WindowsPhaseSpec } from './step-results.js';
import type { WindowsPhaseId } from './powershell-service.js';

interface CatalogueEntry {
  prefix: string;
  steps: { id: string; title: string; readOnly?: boolean }[];
}

/** The module's step catalogue as it is in Steps.json (the tests compare it with what the functions emit). */
export const STEP_CATALOGUE: Readonly<Record<WindowsPhaseId, CatalogueEntry>> = catalogue;

/**
 * The spec of one phase's module steps: the catalogue's ids, titles and read-only marks, and for the steps that can
 * create or delete (not just update) the action their plan shows, by step id.
 */
export function moduleSteps(
  phase: WindowsPhaseId,
  actions: Readonly<Record<string, NonNullable<ModuleStep['action']>>> = {},
): WindowsPhaseSpec {
  const entry = STEP_CATALOGUE[phase];
  const unknown = Object.keys(actions).filter((id) => !entry.steps.some((s) => s.id === id));
  if (unknown.length) throw new Error(`${phase}: no module step ${unknown.join(', ')} in Steps.json`);
  return {
    phase,
    prefix: entry.prefix,
    steps: entry.steps.map((step) => ({
      id: step.id,
      title: step.title,
      ...(step.readOnly ? { readOnly: true } : {}),
      ...(actions[step.id] ? { action: actions[step.id] } : {}),
    })),
  };
}

// Every step shipped as a GitHub Action and an Azure DevOps task: the phases (with the common inputs)
// and the tools (watch, report). The generator and the entry points both go through this list, so a
// phase that joins the registry gets its action, task and extension contribution with no other change.
import { PHASES } from '../phases/registry.js';
import { stepInputs, stepOutputs } from './inputs.js';
import { TOOLS } from './tools.js';
import type { StepManifest } from './step-manifest.js';

export interface PackagedStep extends StepManifest {
  kind: 'phase' | 'tool';
}

export function packagedSteps(): PackagedStep[] {
  return [
    ...PHASES.map((phase) => ({
      id: phase.id,
      title: phase.title,
      runsOn: phase.runsOn,
      changes: phase.changes,
      inputs: stepInputs(phase),
      outputs: stepOutputs(phase),
      signsInToEntra: phase.signsInToEntra === true,
      kind: 'phase' as const,
    })),
    ...TOOLS.map((tool) => ({
      id: tool.id,
      title: tool.title,
      runsOn: tool.runsOn,
      changes: tool.changes,
      inputs: tool.inputs,
      outputs: tool.outputs,
      signsInToEntra: tool.signsInToEntra,
      kind: 'tool' as const,
    })),
  ];
}

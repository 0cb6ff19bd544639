// The inputs and outputs every pipeline step has (config, mode, the certificate, where the record goes),
// joined with each phase's own. This is the single source of the action.yml and task.json inputs: the
// generator derives both from stepInputs()/stepOutputs(), and the step reads its values through them.
import type { InputDefinition, OutputDefinition } from '../hosts/host.js';
import type { Phase } from '../phases/phase.js';

// Defined beside the Azure DevOps host, which reads inputs by these names; the manifests use them too.
export { azureName, SERVICE_CONNECTION_INPUT } from '../hosts/azure-name.js';

/** An input as the pipeline packages declare it: the Host's definition plus what the manifests show. */
export interface PipelineInput extends InputDefinition {
  /** The only values allowed (an Azure DevOps pick list; checked by the step on both hosts). */
  options?: readonly string[];
  /** "file": a path in the repository (an Azure DevOps file picker). Only for required inputs: Azure DevOps
   * fills an empty filePath input with the repository root, which would look like a given value. */
  kind?: 'file';
}

export const MODES = ['plan', 'apply'] as const;
export type StepMode = (typeof MODES)[number];

export const COMMON_INPUTS: readonly PipelineInput[] = [
  {
    name: 'config',
    description: 'Path of the d365-exo-sync config file (YAML or JSON), relative to the working directory.',
    required: true,
    kind: 'file',
  },
  {
    name: 'mode',
    description:
      '"plan" shows what would change and changes nothing; "apply" changes only what differs and reads it back.',
    default: 'apply',
    options: MODES,
  },
  {
    name: 'pfx-base64',
    description:
      'The new certificate: the PFX file as one line of base64, from a pipeline secret or Azure Key Vault. Give this or pfx-file.',
    secret: true,
  },
  {
    name: 'pfx-file',
    description:
      'The new certificate as a path to a PFX file (e.g. a downloaded secure file). Give this or pfx-base64.',
  },
  {
    name: 'pfx-password',
    description: 'Password of the PFX, from a pipeline secret. Leave empty for a PFX without a password.',
    secret: true,
  },
  {
    name: 'record-dir',
    description:
      'Folder for the run record (JSON, never a secret). Default: d365-exo-sync/records in the runner temp folder. Upload it as an artifact.',
  },
];

export const COMMON_OUTPUTS: readonly OutputDefinition[] = [
  { name: 'record-file', description: 'Path of the run record (JSON) this step wrote.' },
];

function joinUnique<T extends { name: string }>(
  what: string,
  phase: Phase,
  common: readonly T[],
  own: readonly T[],
): T[] {
  const all = [...common, ...own];
  const seen = new Set<string>();
  for (const item of all) {
    if (seen.has(item.name)) {
      throw new Error(
        `phase ${phase.id}: ${what} "${item.name}" is declared twice (a phase may not redeclare a common ${what})`,
      );
    }
    if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(item.name)) {
      throw new Error(`phase ${phase.id}: ${what} "${item.name}" must be kebab-case (lower-case words joined by "-")`);
    }
    seen.add(item.name);
  }
  return all;
}

/** Every input of the phase's pipeline step: the common ones first, then the phase's own. */
export function stepInputs(phase: Phase): PipelineInput[] {
  return joinUnique('input', phase, COMMON_INPUTS, phase.inputs);
}

export function stepOutputs(phase: Phase): OutputDefinition[] {
  return joinUnique('output', phase, phase.outputs, COMMON_OUTPUTS);
}

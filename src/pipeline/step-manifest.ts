// What an action.yml and a task.json are made of, the same for a phase and for a tool (watch, report).
import type { OutputDefinition } from '../hosts/host.js';
import type { PipelineInput } from './inputs.js';

export interface StepManifest {
  id: string;
  title: string;
  runsOn: string;
  changes: string;
  /** Every input the step reads, in manifest order. */
  inputs: PipelineInput[];
  outputs: OutputDefinition[];
  /** Signs in to Entra ID: the Azure DevOps task then takes the azureSubscription service connection. */
  signsInToEntra: boolean;
}

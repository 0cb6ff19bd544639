import type { Config } from '../config/schema.js';
import type { Host, InputDefinition, OutputDefinition } from '../hosts/host.js';
import type { PhaseId, Step, StepResult } from '../report/step-result.js';
import type { PhaseServices } from './phase-services.js';
import type { CertificateInput } from '../cert/certificate-input.js';

// The run record's vocabulary lives in report/step-result.ts; the phases re-export it for their callers.
export { PHASE_IDS, STEP_STATUSES } from '../report/step-result.js';
export type { PhaseId, Step, StepResult, StepStatus } from '../report/step-result.js';
export type { PhaseServices } from './phase-services.js';
export type { CertificateInput } from '../cert/certificate-input.js';

/** Everything a phase needs from outside itself. Services are built lazily so plan() of an offline phase stays offline. */
export interface PhaseContext {
  config: Config;
  host: Host;
  /** Outputs of earlier phases in this run or pipeline (tenant-id, thumbprint, organization-id, ...). */
  inputs: Record<string, string | undefined>;
  now: Date;
  /** The new certificate, when the run was given one (already registered with the host's mask). */
  certificate?: CertificateInput;
  services: PhaseServices;
}

/** See Phase.writes. */
export interface PhaseWrites {
  certificate?: boolean;
  ews?: boolean;
}

export interface PhaseOutcome {
  results: StepResult[];
  outputs: Record<string, string>;
}

export interface Phase {
  id: PhaseId;
  title: string;
  /** Where it must run, in words for the docs and plan ("anywhere", "every D365 server", ...). */
  runsOn: string;
  /** What it changes ("nothing", "Entra ID", "that server", ...). */
  changes: string;
  /** Signs in to Entra ID (Microsoft Graph): its Azure DevOps task takes the azureSubscription service connection. */
  signsInToEntra?: boolean;
  /**
   * What the phase writes that the runner guards before it runs. certificate: the run's new certificate goes
   * somewhere (Entra ID's key credential, a server's store, the S2S configuration, AD FS), so a certificate preflight
   * would refuse is refused in apply before anything changes. ews: it sets up or tests server-side synchronization
   * over EWS in Exchange Online, so it refuses after EWS is shut down (2027-04-01).
   */
  writes?: PhaseWrites;
  /** Pipeline inputs beyond the common ones (config, certificate); the action.yml/task.json derive from these. */
  inputs: InputDefinition[];
  outputs: OutputDefinition[];
  /**
   * Outputs that follow from the config alone (which machines run which job), set in plan and apply
   * alike so a pipeline can fan out its later jobs from them even in a plan run.
   */
  configOutputs?(config: Config): Record<string, string>;
  plan(ctx: PhaseContext): Promise<Step[]>;
  apply(ctx: PhaseContext): Promise<PhaseOutcome>;
}

import type { Config } from '../config/schema.js';
import type { Host, InputDefinition, OutputDefinition } from '../hosts/host.js';

export const PHASE_IDS = [
  'preflight',
  'register-entra',
  'configure-exchange',
  'install-certificate',
  'configure-crm',
  'configure-adfs',
  'configure-mailboxes',
  'verify',
  'retire-previous',
] as const;
export type PhaseId = (typeof PHASE_IDS)[number];

/**
 * "not-checked": a read-only check that could not run (its sign-in or an earlier read failed), so nothing is known;
 * never shown as unchanged. Added after run-record@1 was first written: older records never carry it, readers
 * treat unknown statuses as text.
 */
export type StepStatus = 'changed' | 'unchanged' | 'skipped' | 'not-checked' | 'failed';

/** Every status, for renderers and readers of records. */
export const STEP_STATUSES: readonly StepStatus[] = ['changed', 'unchanged', 'skipped', 'not-checked', 'failed'];

/** What plan() returns: one intended change (or check), with the value now and the value wanted. */
export interface Step {
  /** Stable within a phase, e.g. "entra.key-credential" or "server.CRMAPP01.private-key-acl". */
  id: string;
  title: string;
  /** What is touched: a server, an object id, a mailbox address. */
  target: string;
  /** "create" | "update" | "delete" change something; "none" is already right; "check" only reads. */
  action: 'create' | 'update' | 'delete' | 'none' | 'check';
  before: unknown;
  after: unknown;
  /** Why the step is skipped or what it depends on, in plain words. */
  note?: string;
}

/** What apply() returns for each step: what was there, what is there now, and proof read back. */
export interface StepResult {
  id: string;
  title: string;
  target: string;
  status: StepStatus;
  before: unknown;
  after: unknown;
  evidence?: unknown;
  /** The underlying error, when status is "failed". */
  error?: string;
  /** Why a step was "skipped" or "not-checked", in plain words ("sign-in failed"). */
  reason?: string;
  /** A warning worth reading even when the step passed (expiry near, deadline near). */
  warnings?: string[];
}

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

/** The PFX as handed to the run: bytes and password, plus where it came from (for messages; never the secret). */
export interface CertificateInput {
  pfx: Buffer;
  password: string;
  /** "file ./new.pfx", "input pfx-base64", ... */
  source: string;
}

/**
 * The clients a phase uses. Each phase module declares the services it needs by extending this
 * interface (declaration merging keeps phases decoupled from each other's clients).
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface PhaseServices {}

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

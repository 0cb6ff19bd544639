// The Host is everything a phase may ask of whatever runs it (the CLI, a GitHub Action, an Azure DevOps
// task, a test). Phases receive one and never import @actions/* or azure-pipelines-task-lib themselves.

/** One input of a phase, as the pipeline packages (action.yml, task.json) declare it. */
export interface InputDefinition {
  /** kebab-case, as in action.yml; the Azure DevOps adapter derives its own name from it. */
  name: string;
  description: string;
  required?: boolean;
  default?: string;
  /** The value is a secret: it is masked (with its derived forms) before anything else happens. */
  secret?: boolean;
}

export interface OutputDefinition {
  name: string;
  description: string;
}

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/**
 * The Entra ID identity a pipeline host hands the step (an Azure DevOps Azure Resource Manager service
 * connection): tenant, app and how to sign in as it. It replaces tenant.auth of the config.
 */
export interface EntraConnection {
  /** For messages and the run record, never a secret: "Azure DevOps service connection <id> (workload identity federation)". */
  description: string;
  tenantId: string;
  clientId: string;
  credential:
    | { kind: 'federated'; source: FederatedTokenSource }
    | { kind: 'secret'; secret: string }
    | { kind: 'certificate'; pem: string };
}

/**
 * Where the pipeline running a step hands out federated (OIDC) tokens for workload identity federation: how to ask
 * for one and how to read the answer. The host knows where; the core sends the request (its retries, CAs and mask).
 */
export interface FederatedTokenSource {
  /** For messages, never a secret: "the GitHub Actions OIDC token". */
  description: string;
  /** The HTTP request for one token for this audience (Azure DevOps issues for api://AzureADTokenExchange whatever is asked). */
  request(audience: string): { method: 'GET' | 'POST'; url: string; headers: Record<string, string>; body?: string };
  /** The token in the answer; throws an Error that says why not and what to fix (the job's permissions...). */
  read(status: number, body: string): string;
}

/** One state of a long wait, for a live line or a pipeline's progress display. */
export interface ProgressUpdate {
  /** What is waited for: "Test & Enable". */
  title: string;
  /** Where it stands: "37 of 40 have a result, 1 failed". */
  detail: string;
  elapsedMs: number;
  /** title, detail and elapsed time as one line. */
  text: string;
  /** 0–100 when it is known. */
  percent?: number;
  /** update: a new state; heartbeat: no news for 30 s (write a line anyway); done: the wait is over. */
  kind: 'update' | 'heartbeat' | 'done';
}

export type HostResult = 'succeeded' | 'succeeded-with-issues' | 'failed';

export interface Host {
  /** Which adapter this is, for the run record ("cli", "github", "azure-devops", "test"). */
  readonly kind: string;
  readonly log: Logger;
  /** A plain input; undefined when empty. Throws a clear error when a required input is missing. */
  getInput(input: InputDefinition): string | undefined;
  /** A secret input: registered with the mask (and every derived form) before it is returned. */
  getSecret(input: InputDefinition): string | undefined;
  /** Registers a value the host did not hand out (a token, a decoded PFX) so it is masked everywhere. */
  registerSecret(value: string | Buffer): void;
  /** Replaces every registered secret form in text (used for anything written outside the host: files, records). */
  mask(text: string): string;
  setOutput(name: string, value: string): void;
  /** Appends markdown to the job summary (GitHub step summary, Azure DevOps uploaded summary, CLI: nothing). */
  writeSummary(markdown: string): Promise<void>;
  group<T>(title: string, work: () => Promise<T>): Promise<T>;
  /**
   * Shows how a long wait goes: a live line on a terminal, the task's progress on Azure DevOps, a line in the log at
   * least every 30 s. Optional: without it, waits write their heartbeat lines to the log.
   */
  progress?(update: ProgressUpdate): void;
  /** Folder for this run's records and temporary files (RUNNER_TEMP, Agent.TempDirectory, the OS temp folder). */
  tempDir(): string;
  /** Who runs this and where, for the audit record. */
  identity(): { actor: string; machine: string; runId: string; runUrl?: string };
  setResult(result: HostResult, message: string): void;
  /**
   * The Entra ID connection the pipeline gives this step, when the host has such a thing (Azure DevOps:
   * the task's azureSubscription input). Undefined when none is given; throws a clear error when one is
   * named but cannot be used. Its secrets are registered with the mask before it returns.
   */
  entraConnection?(): EntraConnection | undefined;
  /**
   * The pipeline's federated token source for this step, for tenant.auth.method workload-identity: GitHub Actions'
   * OIDC token (the job has `permissions: id-token: write`), Azure DevOps' for a service connection; the command
   * line finds either in its environment. Undefined when there is none; throws a clear error when it is half there.
   * Its request tokens are registered with the mask before it returns.
   */
  federatedTokenSource?(): FederatedTokenSource | undefined;
}

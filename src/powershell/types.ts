// Contracts between TypeScript and the static PowerShell module in powershell/ (entry script
// Invoke-D365ExoSyncPhase.ps1). Parameters go in as a JSON file, secrets through the environment of the one
// child process, the result comes back as a JSON file.

export const POWERSHELL_PHASES = [
  'install-certificate',
  'configure-crm',
  'configure-adfs',
  'configure-exchange',
  'webapi',
] as const;
export type PowerShellPhase = (typeof POWERSHELL_PHASES)[number];
export type PowerShellMode = 'plan' | 'apply';

export interface PowerShellInvocation {
  phase: PowerShellPhase;
  /** plan runs the phase function with -WhatIf: it reads everything and changes nothing. */
  mode: PowerShellMode;
  /** The phase function's parameters by name (camelCase is fine: PowerShell binds names case-insensitively). */
  parameters: Record<string, unknown>;
  /**
   * Secret parameters of the phase function by parameter name (e.g. `PfxPassword`). Each goes only into the
   * child's environment under a name the invoker picks; the script reads it, removes it from its environment
   * and hands it to the function as a SecureString. Never in argv, never in the parameter file.
   */
  secrets?: Record<string, string>;
  /** The PFX: written to a private temp file (0600) passed as -PfxPath, removed in every outcome. */
  pfx?: Buffer;
  /** The whole process (start-up included); on expiry the process tree is killed. */
  timeoutMs: number;
}

export interface SpawnInfo {
  pid: number | undefined;
  command: string;
  args: string[];
  /** The private temporary folder of this call (parameter file, result file, PFX). */
  workspace: string;
}

export interface PowerShellRuntime {
  /** PowerShell executable to use instead of the default (also: environment variable D365_EXO_SYNC_PWSH). */
  pwshPath?: string;
  /** The folder holding Invoke-D365ExoSyncPhase.ps1 and D365ExoSync/ (default: the package's powershell/). */
  modulePath?: string;
  /** Each output line of the child, already masked. */
  onLine(line: string, stream: 'stdout' | 'stderr'): void;
  /** Masks secrets in a line before it goes anywhere (the Host's mask). */
  mask(text: string): string;
  /** Parent folder of the per-call private temp folders (default: the OS temp folder). */
  tempRoot?: string;
  /** Told about every process started (audit log; tests count processes). */
  onSpawn?(info: SpawnInfo): void;
  /**
   * The environment the child starts from and PowerShell is resolved with (default: process.env). The CLI passes
   * its own (in-process runs and tests give theirs); pipeline inputs (INPUT_*) are removed from it either way.
   */
  env?: NodeJS.ProcessEnv;
}

export type ScriptStepStatus = 'changed' | 'would-change' | 'unchanged' | 'skipped' | 'failed';

export interface PhaseScriptStep {
  id: string;
  title: string;
  status: ScriptStepStatus;
  changed: boolean;
  before: unknown;
  after: unknown;
  evidence: unknown;
  message: string | null;
}

export interface PhaseScriptError {
  phase: string;
  step: string;
  server: string;
  message: string;
}

/** The result file: the phase function's state object. */
export interface PhaseScriptResult {
  phase: PowerShellPhase;
  mode: PowerShellMode;
  server: string;
  ok: boolean;
  changed: boolean;
  steps: PhaseScriptStep[];
  evidence: Record<string, unknown>;
  warnings: string[];
  powershell?: { version: string; edition: string; is64BitProcess: boolean };
  error?: PhaseScriptError;
}

/** The script failed: names the phase, the step, the server and the underlying message. */
export class PowerShellPhaseError extends Error {
  constructor(
    message: string,
    readonly detail: PhaseScriptError,
    /** What the script had done before it failed (its steps), when it could write it. */
    readonly partial?: PhaseScriptResult,
    readonly exitCode?: number | null,
  ) {
    super(message);
    this.name = 'PowerShellPhaseError';
  }
}

/** The process did not finish in time and was killed with its children. */
export class PowerShellTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PowerShellTimeoutError';
  }
}

/** No PowerShell could be found to run the phase. */
export class PowerShellUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PowerShellUnavailableError';
  }
}

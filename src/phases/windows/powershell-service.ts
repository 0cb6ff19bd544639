// The PowerShell service the Windows phases use (install-certificate, configure-crm, configure-adfs), and the
// factory the CLI and the pipeline adapters call. It wraps the invoker (src/powershell) with the run's Host: each
// line the child writes goes to host.log.info, masked with host.mask; every process started is logged with its pid
// (the audit trail of "one PowerShell process per phase per server"). Building it is offline: no PowerShell is
// looked for or started until a phase runs it.
import { hostname } from 'node:os';
import { basename } from 'node:path';
import type { Host } from '../../hosts/host.js';
import { invokePowerShellPhase } from '../../powershell/invoke.js';
import type {
  PhaseScriptResult,
  PowerShellInvocation,
  PowerShellPhase,
  PowerShellRuntime,
  SpawnInfo,
} from '../../powershell/types.js';

/**
 * A whole phase on one server, PowerShell start-up included. Restarting the D365 services and
 * CertificateReconfiguration.ps1 take minutes on a busy server; 30 minutes ends a hung run well before a
 * pipeline's own job timeout (GitHub: 6 hours, Azure DevOps: 60 minutes by default).
 */
export const DEFAULT_POWERSHELL_TIMEOUT_MS = 30 * 60_000;

export type WindowsPhaseId = Exclude<PowerShellPhase, 'webapi'>;

/** One phase of the module in one process: the invocation, with the service's own timeout. */
export type WindowsRunRequest = Omit<PowerShellInvocation, 'phase' | 'timeoutMs'> & { phase: WindowsPhaseId };

export interface WindowsServices {
  /** This computer's name as Windows knows it (COMPUTERNAME, else the host name's first label), upper-case. */
  computerName: string;
  timeoutMs: number;
  /** Runs one phase of the module in one PowerShell process; rejects when it fails (see invokePowerShellPhase). */
  run(request: WindowsRunRequest): Promise<PhaseScriptResult>;
}

export interface WindowsServiceOptions {
  /** PowerShell executable (default: the invoker's choice; D365_EXO_SYNC_PWSH also works). */
  pwshPath?: string;
  /** Folder holding Invoke-D365ExoSyncPhase.ps1 and D365ExoSync/ (default: the package's powershell/). */
  modulePath?: string;
  timeoutMs?: number;
  /**
   * Parent of the per-call private temp folders (default: the host's temp folder, RUNNER_TEMP or
   * Agent.TempDirectory, which the runner empties after every job, so a killed run leaves no PFX behind for long).
   */
  tempRoot?: string;
  /** Told about every PowerShell process started, after it is logged. */
  onSpawn?(info: SpawnInfo): void;
  /** Overrides the computer name (default: COMPUTERNAME, else the host name). */
  computerName?: string;
}

/** COMPUTERNAME is the NetBIOS name Windows (and the config's deployment.servers) use; elsewhere the short host name. */
export function computerNameOf(env: NodeJS.ProcessEnv): string {
  const name = env.COMPUTERNAME?.trim() || hostname().split('.')[0] || hostname();
  return name.toUpperCase();
}

export function createWindowsServices(
  host: Host,
  env: NodeJS.ProcessEnv,
  options: WindowsServiceOptions = {},
): WindowsServices {
  const timeoutMs = options.timeoutMs ?? DEFAULT_POWERSHELL_TIMEOUT_MS;

  async function run(request: WindowsRunRequest): Promise<PhaseScriptResult> {
    const runtime: PowerShellRuntime = {
      env,
      onLine: (line) => host.log.info(line),
      mask: (text) => host.mask(text),
      onSpawn: (info) => {
        host.log.info(
          `PowerShell process ${info.pid ?? '(no pid)'} started: ${request.phase} (${request.mode}) with ${basename(info.command)}`,
        );
        options.onSpawn?.(info);
      },
      ...(options.pwshPath ? { pwshPath: options.pwshPath } : {}),
      ...(options.modulePath ? { modulePath: options.modulePath } : {}),
      tempRoot: options.tempRoot ?? host.tempDir(),
    };
    return invokePowerShellPhase({ ...request, timeoutMs }, runtime);
  }

  return {
    computerName: options.computerName?.toUpperCase() ?? computerNameOf(env),
    timeoutMs,
    run,
  };
}

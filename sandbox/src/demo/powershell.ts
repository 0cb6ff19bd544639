// Whether the demo can run the Windows phases here, and with what: PowerShell 7 (the dotnet tool of
// .config/dotnet-tools.json, pwsh on PATH, or D365_EXO_SYNC_PWSH), the toolkit's module, and the sandbox's module
// path (sandbox/powershell: its entry script loads the module, then the fake Windows server and the fake Exchange
// Online tenant). When something is missing the demo says which and why, and runs the rest.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ENTRY_SCRIPT, findDotnetToolPwsh, PWSH_ENV, resolvePowerShell } from '../../../src/index.js';
import { FAKE_SERVER_MODULE_PATH, REPO_ROOT, TOOLKIT_MODULE_PATH } from '../fake-servers.js';

export type DemoPowerShell =
  | {
      available: true;
      /** Where PowerShell came from, for the output ("dotnet tool …/pwsh.dll"). */
      source: string;
      /** Passed to the Windows services; undefined: the invoker's own resolution (same result). */
      pwshPath?: string;
      /** The sandbox's module path: the toolkit's module with the fakes loaded after it. */
      modulePath: string;
    }
  | { available: false; reason: string };

export function findDemoPowerShell(env: NodeJS.ProcessEnv, cwd: string): DemoPowerShell {
  for (const folder of [TOOLKIT_MODULE_PATH, FAKE_SERVER_MODULE_PATH]) {
    if (!existsSync(join(folder, ENTRY_SCRIPT))) {
      return {
        available: false,
        reason: `${ENTRY_SCRIPT} is missing from ${folder}: the clone is incomplete`,
      };
    }
  }
  // Windows runs the phases in Windows PowerShell 5.1 by default, which the fakes (written for PowerShell 7) do
  // not support: the demo asks for PowerShell 7 there explicitly.
  let pwshPath = env[PWSH_ENV] || undefined;
  if (!pwshPath && process.platform === 'win32') {
    pwshPath = findDotnetToolPwsh([cwd, REPO_ROOT], env, 'win32');
    if (!pwshPath) {
      return {
        available: false,
        reason:
          'the demo runs the Windows phases in PowerShell 7 (the fake Windows cmdlets need it) and found none: ' +
          `run "dotnet tool restore" in the repository, or set ${PWSH_ENV} to pwsh.exe`,
      };
    }
  }
  try {
    const resolved = resolvePowerShell({ env, ...(pwshPath ? { pwshPath } : {}), searchFrom: [cwd, REPO_ROOT] });
    return {
      available: true,
      source: resolved.source,
      ...(pwshPath ? { pwshPath } : {}),
      modulePath: FAKE_SERVER_MODULE_PATH,
    };
  } catch (error) {
    return { available: false, reason: error instanceof Error ? error.message : String(error) };
  }
}

// Whether the demo can run the Windows phases here, and with what: PowerShell 7 (the dotnet tool of
// .config/dotnet-tools.json, pwsh on PATH, or D365_EXO_SYNC_PWSH), the static module of the package's powershell/
// folder, and the fake Windows server of test/powershell/fakes (the stand-ins the Pester tests use; a clone has
// them, an installed package does not). When something is missing the demo says which and why, and runs the rest.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  defaultModulePath,
  ENTRY_SCRIPT,
  findDotnetToolPwsh,
  packageRoot,
  PWSH_ENV,
  resolvePowerShell,
} from '../powershell/resolve.js';

export type DemoPowerShell =
  | {
      available: true;
      /** Where PowerShell came from, for the output ("dotnet tool …/pwsh.dll"). */
      source: string;
      /** Passed to the Windows services; undefined: the invoker's own resolution (same result). */
      pwshPath?: string;
      modulePath: string;
      /** FakeWindows.psm1: loaded after the module, it replaces the Windows-only cmdlets. */
      fakeModule: string;
      /** FakeExchangeOnline.psd1: the ExchangeOnlineManagement cmdlets configure-exchange uses, on a fake tenant. */
      fakeExchangeModule: string;
    }
  | { available: false; reason: string };

export const FAKES_FOLDER = join('test', 'powershell', 'fakes');

export function findDemoPowerShell(env: NodeJS.ProcessEnv, cwd: string): DemoPowerShell {
  const root = packageRoot();
  const modulePath = defaultModulePath();
  if (!existsSync(join(modulePath, ENTRY_SCRIPT))) {
    return {
      available: false,
      reason: `the PowerShell module is not at ${modulePath} (${ENTRY_SCRIPT} is missing): the package is incomplete`,
    };
  }
  const fakes = join(root, FAKES_FOLDER);
  const fakeModule = join(fakes, 'FakeWindows.psm1');
  if (!existsSync(fakeModule)) {
    return {
      available: false,
      reason:
        `the fake Windows cmdlets (${join(FAKES_FOLDER, 'FakeWindows.psm1')}) are not in this installation: they ` +
        'come with a clone of the repository (the npm package leaves the tests out); run the demo from a clone',
    };
  }
  // Windows runs the phases in Windows PowerShell 5.1 by default, which the fakes (written for PowerShell 7) do
  // not support: the demo asks for PowerShell 7 there explicitly.
  let pwshPath = env[PWSH_ENV] || undefined;
  if (!pwshPath && process.platform === 'win32') {
    pwshPath = findDotnetToolPwsh([cwd, root], env, 'win32');
    if (!pwshPath) {
      return {
        available: false,
        reason:
          'the demo runs the Windows phases in PowerShell 7 (the fake Windows cmdlets need it) and found none: ' +
          `run "dotnet tool restore" in the package folder, or set ${PWSH_ENV} to pwsh.exe`,
      };
    }
  }
  try {
    const resolved = resolvePowerShell({ env, ...(pwshPath ? { pwshPath } : {}), searchFrom: [cwd, root] });
    return {
      available: true,
      source: resolved.source,
      ...(pwshPath ? { pwshPath } : {}),
      modulePath,
      fakeModule,
      fakeExchangeModule: join(fakes, 'FakeExchangeOnline.psd1'),
    };
  } catch (error) {
    return { available: false, reason: error instanceof Error ? error.message : String(error) };
  }
}

// The Windows half of the sandbox, as the toolkit sees it. The toolkit runs its PowerShell module through the entry
// script Invoke-D365ExoSyncPhase.ps1 of a module path (the package's powershell/ folder unless it is told another).
// sandbox/powershell is such a module path: its Invoke-D365ExoSyncPhase.ps1 imports the toolkit's module, then the
// fake Windows server (FakeWindows.psm1) and the fake Exchange Online tenant (FakeExchangeOnline.psd1), then runs the
// toolkit's own entry script. So the sandbox needs no hook in the product:
//   - in-process runs (the demo, tests that build the PowerShell service) pass FAKE_SERVER_MODULE_PATH as modulePath;
//   - a bundle (the CLI, an action or task) finds its module path upwards from its own folder: run it from a folder
//     made by makeFakeServerLayout, whose powershell/ is the wrapper (with sandbox.json naming the toolkit's module).
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** The repository holding this package (the workspace root). */
export const REPO_ROOT = resolve(here, '..', '..');
/** The toolkit's module path: Invoke-D365ExoSyncPhase.ps1 and D365ExoSync/. */
export const TOOLKIT_MODULE_PATH = join(REPO_ROOT, 'powershell');
/** sandbox/powershell: the fakes, and the wrapper entry script that loads them. */
export const FAKE_SERVER_MODULE_PATH = resolve(here, '..', 'powershell');
export const FAKE_WINDOWS_MODULE = join(FAKE_SERVER_MODULE_PATH, 'FakeWindows.psm1');
export const FAKE_EXCHANGE_MODULE = join(FAKE_SERVER_MODULE_PATH, 'FakeExchangeOnline.psd1');
/** The D365 Tools folder of the fake server (CertificateReconfiguration.ps1). */
export const FAKE_TOOLS = join(FAKE_SERVER_MODULE_PATH, 'tools');
/** The entry script both folders hold (the toolkit's name for it). */
export const WRAPPER_SCRIPT = 'Invoke-D365ExoSyncPhase.ps1';
/** The warning the wrapper adds to every result, so a record says it came from the sandbox. */
export const FAKE_SERVER_WARNING =
  "the sandbox's fake Windows server and Exchange Online tenant were loaded: this run did not touch a real server";

/** Names the toolkit module and the fakes for a copy of the wrapper outside sandbox/powershell. */
export interface WrapperSettings {
  module: string;
  fakes: string[];
}

/**
 * Makes `dir` look like an installed package whose powershell/ folder is the sandbox's wrapper: powershell/ holds
 * the wrapper and sandbox.json (the toolkit's module folder, default the repository's, and the fakes), and
 * .config/dotnet-tools.json pins PowerShell as the repository does. A bundle put under `dir` (e.g. dir/dist/cli.js)
 * finds the wrapper where it looks for the module. Returns `dir`.
 */
export function makeFakeServerLayout(dir: string, toolkitModulePath: string = TOOLKIT_MODULE_PATH): string {
  const powershell = join(dir, 'powershell');
  mkdirSync(powershell, { recursive: true });
  copyFileSync(join(FAKE_SERVER_MODULE_PATH, WRAPPER_SCRIPT), join(powershell, WRAPPER_SCRIPT));
  const settings: WrapperSettings = { module: toolkitModulePath, fakes: [FAKE_WINDOWS_MODULE, FAKE_EXCHANGE_MODULE] };
  writeFileSync(join(powershell, 'sandbox.json'), JSON.stringify(settings, null, 2) + '\n');
  mkdirSync(join(dir, '.config'), { recursive: true });
  copyFileSync(join(REPO_ROOT, '.config', 'dotnet-tools.json'), join(dir, '.config', 'dotnet-tools.json'));
  return dir;
}

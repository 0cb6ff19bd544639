// @d365-exo-sync/sandbox: the rehearsal of the toolkit, from a clone only (private, never published). What it holds:
//   - the Entra ID + Microsoft Graph emulator (./entra) and the D365 Web API emulator (./d365), HTTPS on loopback
//     with a throwaway CA (./tls);
//   - the Windows half: the fake Windows server and Exchange Online tenant for the toolkit's PowerShell module, and
//     the module path that loads them (sandbox/powershell, see fake-servers.ts);
//   - the demo (./demo): two renewals against all of it, which `d365-exo-sync demo` runs through runRehearsal.
// It uses the toolkit through its one TypeScript entry (src/index.ts), and the toolkit never imports it.
import type { RunRehearsal } from '../../src/index.js';
import { runDemo } from './demo/index.js';

/** What `d365-exo-sync demo` loads and runs. */
export const runRehearsal: RunRehearsal = runDemo;

export {
  FAKE_EXCHANGE_MODULE,
  FAKE_SERVER_MODULE_PATH,
  FAKE_SERVER_WARNING,
  FAKE_TOOLS,
  FAKE_WINDOWS_MODULE,
  makeFakeServerLayout,
  REPO_ROOT,
  TOOLKIT_MODULE_PATH,
  type WrapperSettings,
} from './fake-servers.js';

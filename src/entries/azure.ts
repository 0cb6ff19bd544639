// The Azure DevOps task entry point, bundled once per phase into tasks/<phase>/dist/index.js (CommonJS,
// with its own copy of the task lib) with the phase id fixed at bundle time (esbuild define).
import { AzureHost } from '../hosts/azure.js';
import { azureName } from '../pipeline/inputs.js';
import { runPipelineStep } from '../pipeline/step.js';

declare const __D365_EXO_SYNC_PHASE__: string;

void runPipelineStep(__D365_EXO_SYNC_PHASE__, new AzureHost(), {
  env: process.env,
  // Relative paths (config, pfx-file, record-dir) start where the repository is checked out.
  cwd: process.env.SYSTEM_DEFAULTWORKINGDIRECTORY || process.cwd(),
  inputName: azureName,
});

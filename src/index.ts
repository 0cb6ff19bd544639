// The toolkit's TypeScript API: what a program built on the toolkit uses (the rehearsal of the sandbox package runs
// the phases through it). The CLI, the GitHub Actions and the Azure DevOps tasks are the public contracts for users;
// this entry is the one way into src/ for code outside it, so the sandbox never reaches into the toolkit's files.
// Nothing in src/ imports this file.
export { daysLeft, daysText } from './days.js';
export { Masker } from './secrets/masker.js';
export { loadConfigFile } from './config/load.js';
export { DYNAMICS_APP_ID, type Config, type ConfigInput, type SERVER_ROLES } from './config/schema.js';
export type { Host, HostResult, InputDefinition } from './hosts/host.js';
export { toolkitDisplayName } from './graph/key-credentials.js';
export { HttpsTransport, staticAuth } from './crm/https-transport.js';
export type { RetryPolicy } from './crm/transport.js';
export { createCrmServices } from './crm/client-factory.js';
export {
  defaultModulePath,
  ENTRY_SCRIPT,
  findDotnetToolPwsh,
  packageRoot,
  PWSH_ENV,
  resolvePowerShell,
} from './powershell/resolve.js';
export type { CertificateInput, Phase, PhaseContext, PhaseId, PhaseServices, StepResult } from './phases/phase.js';
export { findPhase } from './phases/registry.js';
export { runPhase } from './phases/runner.js';
export { createServices } from './phases/create-services.js';
export { createEntraServices } from './graph/entra-service.js';
export { createExchangeServices } from './graph/exchange-service.js';
export { createWindowsServices } from './phases/windows/powershell-service.js';
export { configHash, type RunRecord } from './report/run-record.js';
export { isResult, markedLines, renderValue } from './report/markdown.js';
export { mergedText, mergeRecords, readRecords, type MergedRow, type MergedRun } from './report/merge.js';
export { statusText } from './report/status.js';
export { DEFAULT_WIDTH, fitLines, paragraph, textTable } from './text/text-table.js';
export type { RehearsalOptions, RehearsalReport, RunRehearsal } from './cli/commands/demo.js';

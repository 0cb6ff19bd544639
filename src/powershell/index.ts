export { invokePowerShellPhase, ERROR_MARKER } from './invoke.js';
export { createWebApiInvoker } from './webapi.js';
export {
  defaultModulePath,
  findDotnetToolPwsh,
  packageRoot,
  resolvePowerShell,
  windowsPowerShellPath,
  PWSH_ENV,
  type ResolvedPowerShell,
} from './resolve.js';
export * from './types.js';

// The Entra ID + Microsoft Graph sandbox: start it from code (tests, `demo`).
export { startEntraEmulator, GRAPH_APP_ID, DEFAULT_FEDERATED_AUDIENCE } from './emulator.js';
export type { EntraEmulator, EntraEmulatorOptions, EmulatorRequest } from './emulator.js';
export { DYNAMICS_APP_ID, EmulatorState, MICROSOFT_SERVICES_TENANT } from './state.js';
export type {
  EmulatorClient,
  SeedKeyCredential,
  SeedServicePrincipal,
  StoredKeyCredential,
  StoredServicePrincipal,
} from './state.js';
export { FaultInjector, describeFault } from './faults.js';
export type { EntraEndpoint, Fault, FaultRule, ActiveFault } from './faults.js';

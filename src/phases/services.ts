// Builds the clients the phases use, from the config and the environment. Building is offline:
// nothing signs in or connects until a phase makes its first call.
import type { Config } from '../config/schema.js';
import type { Host } from '../hosts/host.js';
import type { PhaseServices } from './phase.js';
import { createEntraServices } from './entra/services.js';

export function createServices(config: Config, host: Host, env: NodeJS.ProcessEnv): PhaseServices {
  return { entra: createEntraServices(config, host, env) };
}

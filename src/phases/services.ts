// Builds the clients the phases use, from the config and the environment. Each area's factory is
// lazy: nothing signs in or connects until a phase asks for its client.
import type { Config } from '../config/schema.js';
import type { Host } from '../hosts/host.js';
import type { PhaseServices } from '../phases/phase.js';

export function createServices(_config: Config, _host: Host, _env: NodeJS.ProcessEnv): PhaseServices {
  return {};
}
